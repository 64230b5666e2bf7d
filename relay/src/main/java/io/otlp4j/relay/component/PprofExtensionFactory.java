package io.otlp4j.relay.component;

import io.otlp4j.relay.config.ConfigNode;
import io.otlp4j.relay.config.ConfigReader;
import io.otlp4j.relay.config.ExtensionConfig;

/**
 * The Collector's {@code pprof} extension is Go's profiler and has no JVM counterpart to serve:
 * this factory knows the type only to reject it with an error that says what to use instead, JDK
 * Flight Recorder ({@code jcmd <pid> JFR.start}), rather than calling it an unknown type.
 */
final class PprofExtensionFactory implements ExtensionFactory<ExtensionConfig> {

  /** What the error says to use instead. */
  static final String USE_JFR =
      "pprof is Go's profiler and does not exist in otlp4j (a JVM): remove it and profile with JDK"
          + " Flight Recorder instead, e.g. 'jcmd <pid> JFR.start duration=60s"
          + " filename=otlp4j.jfr', or start the relay with"
          + " OTLP4J_JAVA_OPTS=-XX:StartFlightRecording=filename=otlp4j.jfr";

  @Override
  public String type() {
    return "pprof";
  }

  @Override
  public ExtensionConfig read(String id, ConfigNode node, String where, ConfigReader in) {
    in.error(node.line(), where, USE_JFR);
    return null;
  }
}
