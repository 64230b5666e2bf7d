package io.otlp4j.relay;

import io.otlp4j.wire.testing.LeakDetection;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * What every relay scenario test shares: Netty leak detection that fails the class, a temporary
 * directory, the relay under test and the upstreams it sends to. After each test the upstreams are
 * released (held calls answered), the relay is stopped, then the upstreams are closed.
 */
abstract class RelayScenarioTest {
  static {
    LeakDetection.install();
  }

  @TempDir
  Path dir;

  /** The relay under test; a test assigns it, the base class closes it. */
  RelayUnderTest relay;

  private final List<OtlpUpstream> upstreams = new ArrayList<>();

  /** A started upstream that is released and closed after the test. */
  OtlpUpstream startUpstream() {
    OtlpUpstream upstream = OtlpUpstream.started();
    upstreams.add(upstream);
    return upstream;
  }

  @AfterEach
  void stopRelayAndUpstreams() throws Exception {
    for (OtlpUpstream upstream : upstreams) {
      upstream.release();
    }
    if (relay != null) {
      relay.close();
    }
    for (OtlpUpstream upstream : upstreams) {
      upstream.close();
    }
  }

  @AfterAll
  static void noBufferLeaked() {
    LeakDetection.assertNoLeaks();
  }
}
