package io.otlp4j.relay.cli;

import io.otlp4j.wire.WireFormatException;
import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.Charset;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code otlp4j} command line. Exit codes: 0 success, 2 bad input or bad usage (one line on
 * stderr, no stack trace), 1 an I/O error such as an unreadable file.
 */
@Command(
    name = "otlp4j",
    mixinStandardHelpOptions = true,
    versionProvider = Cli.Version.class,
    description = "A fast, resilient OpenTelemetry Protocol (OTLP) pipeline for the JVM.",
    subcommands = {
      RunCommand.class,
      ValidateCommand.class,
      InspectCommand.class,
      ConvertCommand.class,
      SendCommand.class,
      AlertsCommand.class
    })
public final class Cli {
  public static final int EXIT_OK = 0;
  public static final int EXIT_IO_ERROR = 1;
  public static final int EXIT_BAD_INPUT = 2;

  private Cli() {}

  /**
   * Runs the command line with the given streams and returns the exit code; never calls
   * System.exit.
   */
  public static int execute(String[] args, InputStream in, PrintStream out, PrintStream err) {
    Streams streams = new Streams(in, out, err);
    CommandLine commandLine =
        new CommandLine(
            new Cli(),
            new CommandLine.IFactory() {
              @Override
              public <K> K create(Class<K> type) throws Exception {
                if (type == InspectCommand.class) {
                  return type.cast(new InspectCommand(streams));
                }
                if (type == ConvertCommand.class) {
                  return type.cast(new ConvertCommand(streams));
                }
                if (type == RunCommand.class) {
                  return type.cast(new RunCommand(streams));
                }
                if (type == SendCommand.class) {
                  return type.cast(new SendCommand(streams));
                }
                if (type == AlertsCommand.class) {
                  return type.cast(new AlertsCommand(streams));
                }
                if (type == ValidateCommand.class) {
                  return type.cast(new ValidateCommand(streams));
                }
                return CommandLine.defaultFactory().create(type);
              }
            });
    // The platform charset, named: the same one a PrintStream made without a charset encodes with.
    commandLine.setOut(
        new PrintWriter(new OutputStreamWriter(out, Charset.defaultCharset()), true));
    commandLine.setErr(
        new PrintWriter(new OutputStreamWriter(err, Charset.defaultCharset()), true));
    commandLine.setExecutionExceptionHandler(
        (e, cmd, parsed) -> {
          String name = cmd.getCommandName();
          if (e instanceof BadInputException || e instanceof WireFormatException) {
            err.println("otlp4j " + name + ": " + e.getMessage());
            return EXIT_BAD_INPUT;
          }
          if (e instanceof java.io.IOException || e instanceof java.io.UncheckedIOException) {
            err.println("otlp4j " + name + ": " + e.getMessage());
            return EXIT_IO_ERROR;
          }
          throw e;
        });
    commandLine.setParameterExceptionHandler(
        (e, args2) -> {
          err.println("otlp4j: " + e.getMessage());
          err.println(
              "Try 'otlp4j "
                  + e.getCommandLine().getCommandName()
                  + " --help' for more information.");
          return EXIT_BAD_INPUT;
        });
    if (args.length == 0) {
      commandLine.usage(out);
      return EXIT_BAD_INPUT;
    }
    return commandLine.execute(args);
  }

  /** The standard input and output the commands use, injectable for tests. */
  static final class Streams {
    final InputStream in;
    final PrintStream out;
    final PrintStream err;

    Streams(InputStream in, PrintStream out, PrintStream err) {
      this.in = in;
      this.out = out;
      this.err = err;
    }
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String version = Cli.class.getPackage().getImplementationVersion();
      return new String[] {"otlp4j " + (version == null ? "development build" : version)};
    }
  }
}
