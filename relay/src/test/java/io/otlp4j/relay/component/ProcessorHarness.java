package io.otlp4j.relay.component;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.relay.config.ProcessorConfig;
import io.otlp4j.relay.config.RelayConfig;
import io.otlp4j.relay.config.RelayConfigException;
import io.otlp4j.wire.OtlpWalker;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.WalkSummary;
import java.nio.file.Path;
import java.util.List;

/**
 * Builds a processor from a relay configuration, as {@code Relay} does, and runs official-class
 * requests through it in pooled direct buffers (so that the leak detector sees every buffer).
 */
final class ProcessorHarness {
  final RelayProcessor processor;
  final MetricsRegistry metrics = MetricsRegistry.create();

  /**
   * A configuration whose {@code processors:} section is {@code processors} and whose pipelines use
   * {@code id}.
   */
  static String config(String id, String processorBody) {
    return "receivers:\n  otlp:\n    protocols:\n      http: { endpoint: \"127.0.0.1:0\" }\n"
        + "processors:\n  "
        + id
        + ":\n"
        + processorBody.stripIndent().indent(4)
        + "exporters:\n  debug:\n"
        + "service:\n  pipelines:\n"
        + "    traces: { receivers: [otlp], processors: ["
        + id
        + "], exporters: [debug] }\n"
        + "    metrics: { receivers: [otlp], processors: ["
        + id
        + "], exporters: [debug] }\n"
        + "    logs: { receivers: [otlp], processors: ["
        + id
        + "], exporters: [debug] }\n";
  }

  static RelayConfig parse(String yaml) throws RelayConfigException {
    return RelayConfig.parse(yaml, v -> null, Path.of("."));
  }

  /** The errors a configuration with this processor body gets (empty when it is valid). */
  static List<String> errors(String id, String processorBody) {
    try {
      parse(config(id, processorBody));
      return List.of();
    } catch (RelayConfigException e) {
      return e.errors();
    }
  }

  ProcessorHarness(String id, String processorBody) throws RelayConfigException {
    RelayConfig config = parse(config(id, processorBody));
    ProcessorConfig pc = config.processors().get(id);
    @SuppressWarnings({"unchecked", "rawtypes"})
    ProcessorFactory<ProcessorConfig> factory =
        (ProcessorFactory)
            config.components().processor(id.contains("/") ? id.substring(0, id.indexOf('/')) : id);
    this.processor = factory.create(pc, new ComponentContext(metrics));
  }

  /** The processor's result for {@code request}: its bytes (null when dropped) and summary. */
  record Outcome(byte[] bytes, WalkSummary summary, long dropped) {}

  Outcome run(Signal signal, Message request) {
    byte[] in = request.toByteArray();
    ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(in.length);
    buf.writeBytes(in);
    WalkSummary summary = OtlpWalker.create().walk(signal, buf);
    RelayProcessor.Result result = processor.process(signal, buf, summary);
    assertThat(buf.refCnt()).as("the input is released or handed on").isLessThanOrEqualTo(1);
    if (result instanceof RelayProcessor.Forward f) {
      try {
        byte[] out = ByteBufUtil.getBytes(f.request());
        WalkSummary walked = OtlpWalker.create().walk(signal, out);
        assertThat(f.summary().itemCount())
            .as("the summary counts what is forwarded")
            .isEqualTo(walked.itemCount());
        return new Outcome(out, f.summary(), 0);
      } finally {
        f.request().release();
      }
    }
    assertThat(buf.refCnt()).isZero();
    return new Outcome(null, null, ((RelayProcessor.Dropped) result).items());
  }

  long counter(String name, String signal) {
    String help =
        name.equals(ProcessorCounts.INCOMING)
            ? ProcessorCounts.INCOMING_HELP
            : ProcessorCounts.OUTGOING_HELP;
    return metrics.counter(name, help, "processor", processor.id(), "otel_signal", signal).get();
  }
}
