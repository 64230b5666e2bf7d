package io.otlp4j.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Java program run in a child JVM for a test that must kill it, restart it or keep it apart from
 * the test's own JVM: {@code java} from this JVM's {@code java.home}, this JVM's {@code
 * java.class.path} (under surefire a manifest-only jar, which {@code java -cp} honours), the given
 * JVM options, main class and arguments, and extra environment variables.
 *
 * <p>Output: standard output and error are merged and drained line by line by a daemon thread, so
 * the child never blocks on a full pipe. The last {@value #MAX_LINES} lines are kept (older ones
 * are dropped and counted) for {@link #output()} and for the messages of failed waits; {@link
 * #awaitLine} sees every line as it arrives, and the kept ones printed before it was called.
 *
 * <p>Lifecycle: the child runs until it exits, {@link #kill()} (SIGKILL) or {@link #close()}
 * (SIGKILL too, then a bounded wait): close it, e.g. with try-with-resources or in an
 * {@code @AfterEach}, so that no child outlives its test. Every wait is bounded and fails with an
 * {@link AssertionError} that quotes the child's output. Thread-safe.
 */
public final class ChildJvm implements AutoCloseable {
  /** How many output lines are kept for {@link #output()} and failure messages. */
  public static final int MAX_LINES = 5_000;

  /** How long {@link #kill()} and {@link #close()} wait for the killed child to be gone. */
  static final Duration KILL_WAIT = Duration.ofSeconds(30);

  private final String name;
  private final Process process;
  private final ArrayDeque<String> lines = new ArrayDeque<>(); // guarded by this
  private final List<Waiter> waiters = new ArrayList<>(); // guarded by this
  private long dropped; // guarded by this
  private boolean ended; // guarded by this: the output reached its end (the child exited)

  private record Waiter(Predicate<String> match, CompletableFuture<String> line) {}

  private ChildJvm(String name, Process process) {
    this.name = name;
    this.process = process;
    Thread reader = new Thread(this::drain, "child-jvm-output-" + process.pid());
    reader.setDaemon(true);
    reader.start();
  }

  /** A builder for a child JVM that runs {@code mainClass}'s {@code main}. */
  public static Builder builder(Class<?> mainClass) {
    return new Builder(mainClass.getName());
  }

  /** A builder for a child JVM that runs the named class's {@code main}. */
  public static Builder builder(String mainClass) {
    return new Builder(mainClass);
  }

  /** The child's process. */
  public Process process() {
    return process;
  }

  /** Whether the child still runs. */
  public boolean isAlive() {
    return process.isAlive();
  }

  /** The output lines kept so far (the last {@value #MAX_LINES}), oldest first. */
  public synchronized List<String> output() {
    return List.copyOf(lines);
  }

  /**
   * Waits until the child prints a line that {@code match} accepts (a kept line printed before this
   * call counts) and returns it.
   *
   * @throws AssertionError if the child's output ends (it exited) or {@code timeout} passes first;
   *     the message quotes the output
   */
  public String awaitLine(Predicate<String> match, Duration timeout) throws InterruptedException {
    CompletableFuture<String> found = new CompletableFuture<>();
    synchronized (this) {
      for (String line : lines) {
        if (match.test(line)) {
          return line;
        }
      }
      if (ended) {
        throw new AssertionError(describe("exited before printing the line awaited"));
      }
      waiters.add(new Waiter(match, found));
    }
    try {
      return found.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (ExecutionException e) {
      throw new AssertionError(describe("exited before printing the line awaited"), e.getCause());
    } catch (TimeoutException e) {
      throw new AssertionError(describe("printed no line awaited within " + timeout));
    } finally {
      synchronized (this) {
        waiters.removeIf(w -> w.line() == found);
      }
    }
  }

  /**
   * Waits until the child prints a line in which {@code pattern} is found, and returns the match.
   *
   * @throws AssertionError as {@link #awaitLine(Predicate, Duration)}
   */
  public Matcher awaitMatch(Pattern pattern, Duration timeout) throws InterruptedException {
    Matcher m = pattern.matcher(awaitLine(line -> pattern.matcher(line).find(), timeout));
    if (!m.find()) {
      throw new AssertionError("unreachable: the line matched before");
    }
    return m;
  }

  /**
   * Waits for the child to exit by itself and returns its exit code.
   *
   * @throws AssertionError if it still runs after {@code timeout}
   */
  public int awaitExit(Duration timeout) throws InterruptedException {
    if (!process.waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
      throw new AssertionError(describe("still runs after " + timeout));
    }
    return process.exitValue();
  }

  /**
   * Ends the child with SIGKILL and waits until it is gone.
   *
   * @throws AssertionError if it is still there after {@link #KILL_WAIT}
   */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(KILL_WAIT.toNanos(), TimeUnit.NANOSECONDS)) {
      throw new AssertionError(describe("is still there " + KILL_WAIT + " after SIGKILL"));
    }
  }

  /** Kills the child (SIGKILL) if it still runs, and waits a bounded time for it to be gone. */
  @Override
  public void close() {
    process.destroyForcibly();
    try {
      process.waitFor(KILL_WAIT.toNanos(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public String toString() {
    return "ChildJvm{" + name + ", pid " + process.pid() + "}";
  }

  private void drain() {
    try (BufferedReader in =
        new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        List<CompletableFuture<String>> matched = new ArrayList<>();
        synchronized (this) {
          if (lines.size() == MAX_LINES) {
            lines.removeFirst();
            dropped++;
          }
          lines.addLast(line);
          for (Waiter w : waiters) {
            if (w.match().test(line)) {
              matched.add(w.line());
            }
          }
        }
        for (CompletableFuture<String> f : matched) {
          f.complete(line);
        }
      }
    } catch (IOException e) {
      // the stream broke: the child is gone, as at the end of its output
    } finally {
      List<Waiter> left;
      synchronized (this) {
        ended = true;
        left = List.copyOf(waiters);
      }
      for (Waiter w : left) {
        w.line().completeExceptionally(new IOException("the child's output ended"));
      }
    }
  }

  private synchronized String describe(String what) {
    StringBuilder b = new StringBuilder(name).append(" (pid ").append(process.pid()).append(") ");
    b.append(what).append(process.isAlive() ? "" : ", exit code " + process.exitValue());
    b.append("; its output");
    if (dropped > 0) {
      b.append(" (").append(dropped).append(" earlier lines dropped)");
    }
    b.append(":");
    for (String line : lines) {
      b.append('\n').append(line);
    }
    return b.toString();
  }

  /** Options of a child JVM; {@link #start()} starts it. Not thread-safe. */
  public static final class Builder {
    private final String mainClass;
    private final List<String> jvmOptions = new ArrayList<>();
    private final List<String> args = new ArrayList<>();
    private final Map<String, String> environment = new LinkedHashMap<>();
    private Path directory;

    private Builder(String mainClass) {
      this.mainClass = Objects.requireNonNull(mainClass, "mainClass");
    }

    /** Adds JVM options (e.g. {@code -Xmx256m}), in order, before the class path. */
    public Builder jvmOptions(String... options) {
      jvmOptions.addAll(List.of(options));
      return this;
    }

    /** Adds program arguments, in order, after the main class. */
    public Builder args(String... arguments) {
      args.addAll(List.of(arguments));
      return this;
    }

    /** Sets environment variables of the child, on top of this JVM's environment. */
    public Builder environment(Map<String, String> variables) {
      environment.putAll(variables);
      return this;
    }

    /** The child's working directory; this JVM's by default. */
    public Builder directory(Path dir) {
      this.directory = Objects.requireNonNull(dir, "dir");
      return this;
    }

    /** The command line {@link #start()} runs. */
    public List<String> command() {
      List<String> command = new ArrayList<>();
      command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      command.addAll(jvmOptions);
      command.add("-cp");
      command.add(System.getProperty("java.class.path"));
      command.add(mainClass);
      command.addAll(args);
      return command;
    }

    /** Starts the child; its output is drained from now on. */
    public ChildJvm start() {
      ProcessBuilder pb = new ProcessBuilder(command()).redirectErrorStream(true);
      pb.environment().putAll(environment);
      if (directory != null) {
        pb.directory(directory.toFile());
      }
      try {
        return new ChildJvm(mainClass.substring(mainClass.lastIndexOf('.') + 1), pb.start());
      } catch (IOException e) {
        throw new UncheckedIOException("starting " + command(), e);
      }
    }
  }
}
