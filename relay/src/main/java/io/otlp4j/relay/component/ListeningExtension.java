package io.otlp4j.relay.component;

import java.net.InetSocketAddress;

/**
 * A running extension that serves on an address of its own ({@code health_check}, {@code zpages}):
 * the relay lists it with its listeners. Thread-safe.
 */
public interface ListeningExtension extends AutoCloseable {

  /** Where it listens (the bound port, also when the configuration said port 0). */
  InetSocketAddress address();
}
