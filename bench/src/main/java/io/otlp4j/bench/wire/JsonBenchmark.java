package io.otlp4j.bench.wire;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.otlp4j.wire.OtlpJson;
import io.otlp4j.wire.ProtoWriter;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.testing.OtlpGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * OTLP/JSON transcoding of a realistic 512-span trace request ({@link
 * OtlpGenerator#realisticTraces(int)}, about 200 KB of protobuf), both ways, {@link OtlpJson}
 * against protobuf-java-util's {@link JsonFormat} (the anchor: what a Java receiver or exporter
 * would otherwise use).
 *
 * <h2>What each benchmark does (one operation = one whole request)</h2>
 *
 * <ul>
 *   <li>{@code jsonToProtobuf_otlp4j}: UTF-8 OTLP/JSON bytes → protobuf {@code byte[]} ({@link
 *       OtlpJson#toProtobuf(Signal, byte[])}, a fresh writer and output array per call).
 *   <li>{@code jsonToProtobuf_otlp4jReusedWriter}: the same into a {@link ProtoWriter} reset and
 *       reused across calls, as a server handling request after request on one thread would.
 *   <li>{@code jsonToProtobuf_jsonFormat}: UTF-8 JSON bytes → {@code String} → {@code
 *       JsonFormat.parser().merge(json, builder)} → {@code build().toByteArray()}. JsonFormat gets
 *       the same request printed by its own printer (ids in base64, the form protobuf's JSON
 *       mapping gives {@code bytes}; it cannot read OTLP's hex ids), compact, so both parsers read
 *       the same content in the encoding each understands (the JsonFormat input is slightly
 *       smaller: base64 ids are shorter than hex).
 *   <li>{@code protobufToJson_otlp4j}: protobuf {@code byte[]} → UTF-8 OTLP/JSON, written into a
 *       reused {@code ByteArrayOutputStream}.
 *   <li>{@code protobufToJson_jsonFormat}: protobuf {@code byte[]} → {@code parseFrom} → {@code
 *       JsonFormat.printer().omittingInsignificantWhitespace().print} → UTF-8 bytes.
 * </ul>
 *
 * The goal is at least 3× JsonFormat's speed (a third of its time per operation) in both
 * directions; {@code -prof gc} shows the allocation per operation ({@code gc.alloc.rate.norm}) as
 * well.
 *
 * <h2>How to run</h2>
 *
 * <pre>
 * ./mvnw -B -q -pl bench -am package -DskipTests
 * java -jar bench/target/benchmarks.jar JsonBenchmark -prof gc
 * # smoke run only:
 * java -jar bench/target/benchmarks.jar JsonBenchmark -f 1 -wi 1 -i 2 -w 1s -r 1s -prof gc
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(
    value = 2,
    jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
public class JsonBenchmark {
  private static final int SPANS = 512;

  private byte[] protobuf;
  private byte[] otlpJson;
  private byte[] jsonFormatJson;
  private JsonFormat.Parser jsonFormatParser;
  private JsonFormat.Printer jsonFormatPrinter;
  private ProtoWriter writer;
  private ByteArrayOutputStream jsonOut;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    ExportTraceServiceRequest request = OtlpGenerator.realisticTraces(SPANS);
    protobuf = request.toByteArray();
    otlpJson = OtlpJson.toJson(Signal.TRACES, protobuf);
    jsonFormatParser = JsonFormat.parser().ignoringUnknownFields();
    jsonFormatPrinter = JsonFormat.printer().omittingInsignificantWhitespace();
    jsonFormatJson = jsonFormatPrinter.print(request).getBytes(StandardCharsets.UTF_8);
    writer = new ProtoWriter(protobuf.length + 1024);
    jsonOut = new ByteArrayOutputStream(otlpJson.length + 1024);

    // Both sides must stand for the same message, or the comparison means nothing.
    if (!ExportTraceServiceRequest.parseFrom(OtlpJson.toProtobuf(Signal.TRACES, otlpJson))
            .equals(request)
        || !ExportTraceServiceRequest.parseFrom(jsonToProtobuf_jsonFormat()).equals(request)) {
      throw new IllegalStateException("the benchmark inputs do not encode the same request");
    }
  }

  @Benchmark
  public byte[] jsonToProtobuf_otlp4j() {
    return OtlpJson.toProtobuf(Signal.TRACES, otlpJson);
  }

  @Benchmark
  public int jsonToProtobuf_otlp4jReusedWriter() {
    ProtoWriter out = writer.reset();
    OtlpJson.toProtobuf(Signal.TRACES, otlpJson, 0, otlpJson.length, out);
    return out.finish().size();
  }

  @Benchmark
  public byte[] jsonToProtobuf_jsonFormat() throws InvalidProtocolBufferException {
    ExportTraceServiceRequest.Builder builder = ExportTraceServiceRequest.newBuilder();
    jsonFormatParser.merge(new String(jsonFormatJson, StandardCharsets.UTF_8), builder);
    return builder.build().toByteArray();
  }

  @Benchmark
  public int protobufToJson_otlp4j() throws IOException {
    jsonOut.reset();
    OtlpJson.toJson(Signal.TRACES, protobuf, 0, protobuf.length, jsonOut);
    return jsonOut.size();
  }

  @Benchmark
  public byte[] protobufToJson_jsonFormat() throws InvalidProtocolBufferException {
    return jsonFormatPrinter
        .print(ExportTraceServiceRequest.parseFrom(protobuf))
        .getBytes(StandardCharsets.UTF_8);
  }
}
