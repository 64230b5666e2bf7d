package io.otlp4j.bench.relay;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class JitCpuTest {
  @Test
  void readsTheCompilerThreadsCpuOfARunningJvm() {
    // this JVM has compiled (the test framework's code) by the time the test runs
    long self = ProcessHandle.current().pid();
    double millis = JitCpu.compilerCpuMillis(self);
    if (Files.isDirectory(Path.of("/proc", Long.toString(self), "task"))) {
      assertThat(millis).isPositive();
    } else {
      assertThat(millis).isNaN();
    }
  }

  @Test
  void aProcessThatIsGoneHasNoFigure() {
    assertThat(JitCpu.compilerCpuMillis(Long.MAX_VALUE)).isNaN();
  }
}
