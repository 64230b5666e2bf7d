package io.otlp4j.testing;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/**
 * The child JVM's main class of {@link KafkaBroker} (not an API): formats the storage when it is
 * not formatted yet (Kafka's {@code kafka-storage format}, {@code kafka.tools.StorageTool}), then
 * runs the broker ({@code kafka-server-start}, {@code kafka.Kafka}) until SIGTERM. One JVM for both
 * saves a JVM start per broker.
 *
 * <p>Arguments: the {@code server.properties} path and the cluster id.
 */
public final class KafkaBrokerMain {
  private KafkaBrokerMain() {}

  public static void main(String[] args) throws Exception {
    String properties = args[0];
    String clusterId = args[1];
    Properties p = new Properties();
    try (var in = Files.newBufferedReader(Path.of(properties), StandardCharsets.UTF_8)) {
      p.load(in);
    }
    Path logDir = Path.of(p.getProperty("log.dirs"));
    if (!Files.exists(logDir.resolve("meta.properties"))) {
      int code =
          kafka.tools.StorageTool.execute(
              new String[] {"format", "-t", clusterId, "-c", properties, "--ignore-formatted"},
              System.out);
      if (code != 0) {
        System.out.println("kafka-storage format failed with " + code);
        System.exit(code);
      }
    }
    kafka.Kafka.main(new String[] {properties});
  }
}
