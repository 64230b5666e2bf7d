package io.otlp4j.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class ChildJvmTest {
  private static final Duration WAIT = Duration.ofSeconds(60);

  /** The child: {@code lines <n>} prints n numbered lines, then its arguments and exits 3. */
  public static final class Program {
    public static void main(String[] args) throws InterruptedException {
      if (args[0].equals("sleep")) {
        System.out.println("ready to sleep");
        System.out.flush();
        Thread.sleep(120_000);
        return;
      }
      int n = Integer.parseInt(args[1]);
      for (int i = 0; i < n; i++) {
        System.out.println("n" + i);
      }
      System.err.println("arg:" + args[2] + " env:" + System.getenv("CHILD_JVM_TEST"));
      System.out.println("done");
      System.exit(3);
    }
  }

  @Test
  void runsTheMainClassWithArgumentsAndEnvironmentAndKeepsTheLastLinesOfItsMergedOutput()
      throws Exception {
    int printed = ChildJvm.MAX_LINES + 100;
    try (ChildJvm child =
        ChildJvm.builder(Program.class)
            .jvmOptions("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")
            .args("lines", String.valueOf(printed), "x y")
            .environment(Map.of("CHILD_JVM_TEST", "blue"))
            .start()) {
      assertThat(child.awaitLine("done"::equals, WAIT)).isEqualTo("done");
      assertThat(child.awaitExit(WAIT)).isEqualTo(3);
      // printed before this call and kept: found at once; standard error is merged
      assertThat(child.awaitLine(l -> l.startsWith("arg:"), WAIT)).isEqualTo("arg:x y env:blue");
      List<String> output = child.output();
      assertThat(output).hasSize(ChildJvm.MAX_LINES).endsWith("arg:x y env:blue", "done");
      assertThat(output.get(0)).isEqualTo("n102"); // the oldest 102 lines were dropped
      assertThatThrownBy(() -> child.awaitLine("never"::equals, WAIT))
          .isInstanceOf(AssertionError.class)
          .hasMessageContaining("exited before printing the line awaited, exit code 3")
          .hasMessageContaining("102 earlier lines dropped")
          .hasMessageEndingWith("arg:x y env:blue\ndone");
    }
  }

  @Test
  void aWaitEndsAtItsTimeoutAndKillEndsTheChild() throws Exception {
    ChildJvm child =
        ChildJvm.builder(Program.class.getName())
            .jvmOptions("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")
            .args("sleep")
            .start();
    try {
      Matcher m = child.awaitMatch(Pattern.compile("ready to (\\w+)"), WAIT);
      assertThat(m.group(1)).isEqualTo("sleep");
      // the child sleeps two minutes: this wait can only end at its timeout
      assertThatThrownBy(() -> child.awaitLine("never"::equals, Duration.ofMillis(300)))
          .isInstanceOf(AssertionError.class)
          .hasMessageContaining("printed no line awaited within PT0.3S")
          .hasMessageEndingWith(":\nready to sleep");
      assertThatThrownBy(() -> child.awaitExit(Duration.ofMillis(100)))
          .isInstanceOf(AssertionError.class)
          .hasMessageContaining("still runs after PT0.1S");
      assertThat(child.isAlive()).isTrue();
      child.kill();
      assertThat(child.isAlive()).isFalse();
      assertThat(child.process().exitValue()).isNotZero();
    } finally {
      child.close();
      child.close(); // closing twice is harmless
    }
  }

  @Test
  void theCommandIsThisJvmsJavaAndClassPath() {
    List<String> command =
        ChildJvm.builder("a.B").jvmOptions("-Xmx64m").args("one", "two").command();
    assertThat(command.get(0)).startsWith(System.getProperty("java.home")).endsWith("java");
    assertThat(command.subList(1, command.size()))
        .containsExactly(
            "-Xmx64m", "-cp", System.getProperty("java.class.path"), "a.B", "one", "two");
  }
}
