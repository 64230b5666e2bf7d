package io.otlp4j.wire;

import com.google.protobuf.Message;
import io.otlp4j.wire.testing.OtlpGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes the committed seed corpora of the wire module's Jazzer fuzz tests (run it from the module
 * directory with the test class path; it overwrites only {@code seed-*} files):
 *
 * <pre>
 * java -cp target/test-classes:target/classes:$(cat cp.txt) io.otlp4j.wire.FuzzSeeds src/test/resources
 * </pre>
 *
 * Seeds come from the official OTLP/JSON examples (examples/otlp-json, on the test class path) and
 * from {@link OtlpGenerator}. A {@link com.code_intelligence.jazzer.api.FuzzedDataProvider} reads
 * its scalar choices from the end of the input, so each seed is its payload followed by the choice
 * bytes in reverse order of consumption (one byte per small range).
 */
public final class FuzzSeeds {
  private static final String[] EXAMPLES = {"trace", "metrics", "logs", "events"};
  private static final Signal[] EXAMPLE_SIGNALS = {
    Signal.TRACES, Signal.METRICS, Signal.LOGS, Signal.LOGS
  };

  private FuzzSeeds() {}

  /** An official OTLP/JSON example's bytes. */
  public static byte[] example(int i) {
    try (InputStream in =
        FuzzSeeds.class.getResourceAsStream("/otlp-json/" + EXAMPLES[i] + ".json")) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The official examples (traces, metrics, logs, events as logs) as protobuf requests. */
  public static List<Seed> examplesAsProtobuf() {
    List<Seed> out = new ArrayList<>();
    for (int i = 0; i < EXAMPLES.length; i++) {
      out.add(
          new Seed(
              "example-" + EXAMPLES[i],
              EXAMPLE_SIGNALS[i],
              OtlpJson.toProtobuf(EXAMPLE_SIGNALS[i], example(i))));
    }
    return out;
  }

  /** Small generated requests (with unknown fields), {@code perSignal} of each signal. */
  public static List<Seed> generated(int perSignal) {
    List<Seed> out = new ArrayList<>();
    for (Signal signal : Signal.values()) {
      OtlpGenerator generator = new OtlpGenerator(77 + signal.ordinal()).withUnknownFields(true);
      int n = 0;
      while (n < perSignal) {
        Message m = generator.request(signal);
        if (m.getSerializedSize() > 0 && m.getSerializedSize() <= 3000) {
          out.add(new Seed("generated-" + signal.id() + "-" + n, signal, m.toByteArray()));
          n++;
        }
      }
    }
    return out;
  }

  /** A named payload of one signal. */
  public record Seed(String name, Signal signal, byte[] payload) {}

  /** {@code payload} followed by {@code choices} reversed (the first choice is the last byte). */
  public static byte[] withChoices(byte[] payload, int... choices) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(payload);
    for (int i = choices.length - 1; i >= 0; i--) {
      out.write(choices[i]);
    }
    return out.toByteArray();
  }

  /** Writes {@code bytes} as {@code dir/seed-<name>}. */
  public static void write(Path dir, String name, byte[] bytes) throws IOException {
    Files.createDirectories(dir);
    Files.write(dir.resolve("seed-" + name), bytes);
  }

  public static void main(String[] args) throws IOException {
    Path resources = Path.of(args[0]).resolve("io/otlp4j/wire");
    List<Seed> protobufs = new ArrayList<>(examplesAsProtobuf());
    protobufs.addAll(generated(3));

    // walkSplitEdit: signal, maxItems (1 + b % 64), maxBytes (2 bytes), seed (8), drop, edit,
    // composite
    Path walk = resources.resolve("WalkSplitEditFuzzTestInputs/walkSplitEdit");
    int k = 0;
    for (Seed s : protobufs) {
      k++;
      write(
          walk,
          s.name(),
          withChoices(
              s.payload(),
              s.signal().ordinal(),
              k % 8,
              0x01,
              0x00,
              0,
              0,
              0,
              0,
              0,
              0,
              0,
              k,
              25,
              30,
              k & 1));
    }
    Path toJson = resources.resolve("ProtobufToJsonFuzzTestInputs/protobufToJson");
    for (Seed s : protobufs) {
      write(toJson, s.name(), withChoices(s.payload(), s.signal().ordinal()));
    }
    Path toProtobuf = resources.resolve("JsonToProtobufFuzzTestInputs/jsonToProtobuf");
    for (int i = 0; i < EXAMPLES.length; i++) {
      write(
          toProtobuf,
          "example-" + EXAMPLES[i],
          withChoices(example(i), EXAMPLE_SIGNALS[i].ordinal()));
    }
    for (Seed s : generated(1)) {
      write(
          toProtobuf,
          s.name(),
          withChoices(OtlpJson.toJson(s.signal(), s.payload()), s.signal().ordinal()));
    }
    // decompress: codec (odd: gzip), limit (3 bytes, high byte first), then the compressed bytes
    Path decompress = resources.resolve("DecompressorFuzzTestInputs/decompress");
    for (Seed s : protobufs.subList(0, 4)) {
      for (Compression codec : new Compression[] {Compression.GZIP, Compression.ZSTD}) {
        byte[] compressed = codec.compress(s.payload());
        int gzip = codec == Compression.GZIP ? 1 : 0;
        write(
            decompress,
            codec.encoding() + "-" + s.name(),
            withChoices(compressed, gzip, 0x01, 0x00, 0x00));
        // the same with a limit below its size: refused for the limit
        write(
            decompress,
            codec.encoding() + "-over-limit-" + s.name(),
            withChoices(compressed, gzip, 0x00, 0x00, 0x40));
      }
    }
  }
}
