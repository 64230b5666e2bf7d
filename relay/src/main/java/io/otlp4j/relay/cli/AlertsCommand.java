package io.otlp4j.relay.cli;

import io.otlp4j.relay.alert.AlertsConfig;
import io.otlp4j.relay.alert.RulesFile;
import io.otlp4j.relay.config.RelayConfig;
import io.otlp4j.relay.config.RelayConfigException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "alerts",
    mixinStandardHelpOptions = true,
    description = {
      "Prints the relay's alerting rules as a Prometheus rules file (groups: ...), for a",
      "Prometheus that scrapes the relay's /metrics: promtool check rules accepts it.",
      "Without --config, the default rules."
    })
final class AlertsCommand implements Callable<Integer> {
  private final Cli.Streams streams;

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description = "The relay's YAML configuration file (service.telemetry.alerts).")
  Path config;

  AlertsCommand(Cli.Streams streams) {
    this.streams = streams;
  }

  @Override
  public Integer call() throws IOException {
    AlertsConfig alerts;
    if (config == null) {
      alerts = AlertsConfig.DEFAULTS;
    } else {
      try {
        alerts = RelayConfig.load(config).alerts();
      } catch (RelayConfigException e) {
        for (String error : e.errors()) {
          streams.err.println(config + ": " + error);
        }
        return Cli.EXIT_BAD_INPUT;
      }
    }
    streams.out.print(RulesFile.write(alerts));
    streams.out.flush();
    return Cli.EXIT_OK;
  }
}
