package io.otlp4j.bench.relay;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** How much CPU a child JVM's JIT compiler threads used: a relay still compiling, from outside. */
final class JitCpu {
  private JitCpu() {}

  /**
   * The CPU time, in ms, the JVM {@code pid}'s JIT compiler threads have used so far (user +
   * system, from {@code /proc/<pid>/task/<tid>/stat} at 100 ticks a second); NaN where there is no
   * {@code /proc}. A relay still compiling competes with its own requests for the machine's cores.
   */
  static double compilerCpuMillis(long pid) {
    Path tasks = Path.of("/proc", Long.toString(pid), "task");
    if (!Files.isDirectory(tasks)) {
      return Double.NaN;
    }
    long ticks = 0;
    try (Stream<Path> threads = Files.list(tasks)) {
      for (Path thread : threads.toList()) {
        try {
          String stat = Files.readString(thread.resolve("stat"));
          int close = stat.lastIndexOf(')');
          if (!stat.substring(stat.indexOf('(') + 1, close).contains("CompilerThre")) {
            continue;
          }
          String[] fields = stat.substring(close + 2).split(" ");
          ticks += Long.parseLong(fields[11]) + Long.parseLong(fields[12]); // utime, stime
        } catch (IOException | RuntimeException gone) {
          // the thread ended meanwhile
        }
      }
    } catch (IOException e) {
      return Double.NaN;
    }
    return ticks * 10.0;
  }
}
