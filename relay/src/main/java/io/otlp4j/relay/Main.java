package io.otlp4j.relay;

import io.otlp4j.relay.cli.Cli;

/**
 * The {@code otlp4j} command line: {@code run}, {@code validate}, {@code convert}, {@code inspect}.
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    System.exit(Cli.execute(args, System.in, System.out, System.err));
  }
}
