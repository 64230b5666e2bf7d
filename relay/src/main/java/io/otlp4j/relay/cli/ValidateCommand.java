package io.otlp4j.relay.cli;

import io.otlp4j.relay.config.RelayConfig;
import io.otlp4j.relay.config.RelayConfigException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "validate",
    mixinStandardHelpOptions = true,
    description = {
      "Checks a relay configuration file without starting anything.",
      "Exit code 0 when it is valid; 2 with every error (each naming its line) on stderr."
    })
final class ValidateCommand implements Callable<Integer> {
  private final Cli.Streams streams;

  @Option(
      names = "--config",
      required = true,
      paramLabel = "FILE",
      description = "The YAML configuration file.")
  Path config;

  ValidateCommand(Cli.Streams streams) {
    this.streams = streams;
  }

  @Override
  public Integer call() throws IOException {
    try {
      RelayConfig parsed = RelayConfig.load(config);
      streams.out.println(config + ": valid; pipelines " + String.join(", ", parsed.pipelineIds()));
      return Cli.EXIT_OK;
    } catch (RelayConfigException e) {
      for (String error : e.errors()) {
        streams.err.println(config + ": " + error);
      }
      return Cli.EXIT_BAD_INPUT;
    }
  }
}
