package io.otlp4j.bench.soak;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * What {@link ChaosSoak} runs: how long, where it writes, the client rates, and the fault schedule
 * derived from the duration ({@link #compressed()}: under 10 minutes, as in CI, the same faults
 * come closer together).
 *
 * @param duration how long the clients send and faults are injected (the drain comes after)
 * @param out where the summary, the samples and the chart go
 * @param seed of every random choice (fault order, times, lengths)
 * @param sdkSpansPerSecond the OpenTelemetry SDK client's rate
 * @param sendRequestsPerSecond the {@code otlp4j send} client's rate ({@value
 *     SendClient#ITEMS_PER_REQUEST} spans each)
 * @param relayJvm options of the relay's JVM
 */
record SoakOptions(
    Duration duration,
    Path out,
    long seed,
    int sdkSpansPerSecond,
    double sendRequestsPerSecond,
    List<String> relayJvm) {

  static final List<String> DEFAULT_RELAY_JVM = List.of("-Xmx256m", "-XX:+UseSerialGC");

  static SoakOptions parse(String... args) {
    Duration duration = Duration.ofMinutes(30);
    Path out = Path.of("bench/results/soak");
    long seed = System.nanoTime();
    int sdkRate = 200;
    double sendRate = 5;
    for (int i = 0; i < args.length; i++) {
      String value = i + 1 < args.length ? args[i + 1] : null;
      switch (args[i]) {
        case "--duration" -> duration = duration(value);
        case "--out" -> out = Path.of(value);
        case "--seed" -> seed = Long.parseLong(value);
        case "--sdk-rate" -> sdkRate = Integer.parseInt(value);
        case "--send-rate" -> sendRate = Double.parseDouble(value);
        case "--help", "-h" -> throw new IllegalArgumentException(usage());
        default -> throw new IllegalArgumentException("unknown option " + args[i] + "\n" + usage());
      }
      i++;
    }
    if (duration.toSeconds() < 60) {
      throw new IllegalArgumentException("--duration must be at least 1m, was " + duration);
    }
    return new SoakOptions(duration, out, seed, sdkRate, sendRate, DEFAULT_RELAY_JVM);
  }

  static String usage() {
    return "usage: ChaosSoak [--duration 30m] [--out bench/results/soak] [--seed N]"
        + " [--sdk-rate 200] [--send-rate 5]";
  }

  /** {@code 90s}, {@code 2m}, {@code 1h}. */
  static Duration duration(String text) {
    if (text == null || text.length() < 2) {
      throw new IllegalArgumentException("a duration such as 30m or 90s, was " + text);
    }
    String t = text.toLowerCase(Locale.ROOT);
    long n = Long.parseLong(t.substring(0, t.length() - 1));
    return switch (t.charAt(t.length() - 1)) {
      case 's' -> Duration.ofSeconds(n);
      case 'm' -> Duration.ofMinutes(n);
      case 'h' -> Duration.ofHours(n);
      default -> throw new IllegalArgumentException("a duration such as 30m or 90s, was " + text);
    };
  }

  /** Under 10 minutes: faults closer together (CI's 2-minute run). */
  boolean compressed() {
    return duration.toMinutes() < 10;
  }

  double seconds() {
    return duration.toMillis() / 1e3;
  }

  /** Seconds between resource samples. */
  double samplePeriod() {
    return compressed() ? 4 : 15;
  }

  /** The SIGKILLs fall in [start, end) of the run, as fractions of it. */
  double killsFrom() {
    return 0.08;
  }

  double killsUntil() {
    return compressed() ? 0.30 : 0.40;
  }

  /** Seconds from a restarted relay listening to the next kill: [min, max]. */
  double[] killGap() {
    return compressed() ? new double[] {4, 7} : new double[] {40, 90};
  }

  /**
   * The relay's JVM options: {@link #relayJvm()}, plus C1 only ({@code -XX:TieredStopAtLevel=1})
   * when {@link #compressed()}, so that its restarts take less of a shared CI machine.
   */
  List<String> relayJvmArgs() {
    if (!compressed()) {
      return relayJvm;
    }
    List<String> args = new java.util.ArrayList<>(relayJvm);
    args.add("-XX:TieredStopAtLevel=1");
    return args;
  }

  /** The disk-full episode: starts at this fraction of the run, lasts this many seconds. */
  double diskFullAt() {
    return 0.6;
  }

  double diskFullSeconds() {
    return compressed() ? 8 : 60;
  }

  int upstreamRestarts() {
    return compressed() ? 2 : Math.max(2, (int) (duration.toMinutes() / 5));
  }

  /** A proxy fault window's length and the clean gap after it, [min, max] seconds each. */
  double[] faultWindow() {
    return compressed() ? new double[] {4, 7} : new double[] {10, 30};
  }

  double[] faultGap() {
    return compressed() ? new double[] {1, 3} : new double[] {10, 20};
  }

  /** How long {@code otlp4j send} runs before the next one starts. */
  int sendRunSeconds() {
    return compressed() ? 30 : 60;
  }

  /** How long the drain may take after the clients stop. */
  Duration drainTimeout() {
    return compressed() ? Duration.ofSeconds(90) : Duration.ofMinutes(5);
  }
}
