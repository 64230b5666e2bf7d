package io.otlp4j.relay.cli;

import io.otlp4j.wire.OtlpWalker;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.WireFormatException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "convert",
    mixinStandardHelpOptions = true,
    description = {
      "Converts one OTLP export request (traces, metrics or logs) between OTLP/JSON and protobuf.",
      "The input is validated first; the output is written only when the whole input is good."
    })
final class ConvertCommand implements Callable<Integer> {
  enum Target {
    json,
    proto
  }

  private final Cli.Streams streams;

  @Option(names = "--to", required = true, paramLabel = "FORMAT", description = "json or proto.")
  Target to;

  @Option(
      names = "--signal",
      paramLabel = "SIGNAL",
      converter = SignalConverter.class,
      description = "traces, metrics or logs (default: detected from the content).")
  Signal signal;

  @Parameters(
      index = "0",
      paramLabel = "IN",
      description = "The input file, or - for standard input.")
  String in;

  @Parameters(
      index = "1",
      paramLabel = "OUT",
      description = "The output file, or - for standard output.")
  String out;

  ConvertCommand(Cli.Streams streams) {
    this.streams = streams;
  }

  @Override
  public Integer call() throws IOException {
    Payload payload = Payload.read(in, signal, streams.in);
    byte[] protobuf = InspectCommand.transcoded(payload);
    byte[] result;
    try {
      // Validate the whole request before writing anything: a converted file is a good file.
      OtlpWalker.create().walk(payload.signal, protobuf);
      result =
          to == Target.proto ? protobuf : io.otlp4j.wire.OtlpJson.toJson(payload.signal, protobuf);
    } catch (WireFormatException e) {
      throw new BadInputException(payload.name + ": " + e.getMessage());
    }
    if ("-".equals(out)) {
      streams.out.write(result);
      if (to == Target.json) {
        streams.out.println();
      }
      streams.out.flush();
    } else {
      // Write beside the target and move it into place, so a failed write never leaves half a file.
      Path target = Path.of(out).toAbsolutePath();
      Path temp = Files.createTempFile(target.getParent(), ".otlp4j-convert", ".tmp");
      try {
        try (OutputStream os = Files.newOutputStream(temp)) {
          os.write(result);
          if (to == Target.json) {
            os.write('\n');
          }
        }
        Files.move(
            temp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } finally {
        Files.deleteIfExists(temp);
      }
    }
    return Cli.EXIT_OK;
  }
}
