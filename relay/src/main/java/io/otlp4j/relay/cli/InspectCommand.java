package io.otlp4j.relay.cli;

import io.otlp4j.wire.OtlpWalker;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.WalkSummary;
import io.otlp4j.wire.WireFormatException;
import java.io.IOException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "inspect",
    mixinStandardHelpOptions = true,
    description = {
      "Prints what an OTLP export request holds: signal, resources, scopes, items and bytes.",
      "Items are spans, metric data points (counted as the Collector counts them) or log records;",
      "bytes is the size of the request's protobuf encoding (after transcoding, for OTLP/JSON input).",
      "The input may be OTLP/JSON or protobuf, plain or gzip/zstd compressed."
    })
final class InspectCommand implements Callable<Integer> {
  private final Cli.Streams streams;

  @Option(
      names = "--json",
      description = "Print one JSON object with the keys signal, resources, scopes, items, bytes.")
  boolean json;

  @Option(
      names = "--signal",
      paramLabel = "SIGNAL",
      converter = SignalConverter.class,
      description = "traces, metrics or logs (default: detected from the content).")
  Signal signal;

  @Parameters(
      index = "0",
      paramLabel = "FILE",
      description = "The payload file, or - for standard input.")
  String file;

  InspectCommand(Cli.Streams streams) {
    this.streams = streams;
  }

  @Override
  public Integer call() throws IOException {
    Payload payload = Payload.read(file, signal, streams.in);
    byte[] protobuf = transcoded(payload);
    WalkSummary summary;
    try {
      summary = OtlpWalker.create().walk(payload.signal, protobuf);
    } catch (WireFormatException e) {
      throw new BadInputException(payload.name + ": " + e.getMessage());
    }
    if (json) {
      streams.out.printf(
          "{\"signal\":\"%s\",\"resources\":%d,\"scopes\":%d,\"items\":%d,\"bytes\":%d}%n",
          payload.signal.id(),
          summary.resourceCount(),
          summary.scopeCount(),
          summary.itemCount(),
          summary.byteCount());
    } else {
      streams.out.printf(
          "file:      %s (%s%s, %d bytes)%n",
          payload.name,
          payload.format == Payload.Format.JSON ? "OTLP/JSON" : "protobuf",
          payload.compression.encoding().equals("none")
              ? ""
              : ", " + payload.compression.encoding(),
          payload.inputBytes);
      streams.out.printf("signal:    %s%n", payload.signal.id());
      streams.out.printf("resources: %d%n", summary.resourceCount());
      streams.out.printf("scopes:    %d%n", summary.scopeCount());
      streams.out.printf(
          "items:     %d %s%n", summary.itemCount(), itemNoun(payload.signal, summary.itemCount()));
      if (payload.signal == Signal.METRICS) {
        streams.out.printf("metrics:   %d%n", summary.metricCount());
      }
      streams.out.printf("bytes:     %d (protobuf)%n", summary.byteCount());
    }
    return Cli.EXIT_OK;
  }

  static byte[] transcoded(Payload payload) {
    try {
      return payload.protobuf();
    } catch (WireFormatException e) {
      throw new BadInputException(payload.name + ": " + e.getMessage());
    }
  }

  private static String itemNoun(Signal signal, long count) {
    switch (signal) {
      case TRACES:
        return count == 1 ? "span" : "spans";
      case METRICS:
        return count == 1 ? "data point" : "data points";
      default:
        return count == 1 ? "log record" : "log records";
    }
  }
}
