package io.otlp4j.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A real peer that tests run as an operating-system program (Prometheus, Alertmanager, promtool,
 * Chromium and its driver), found on the {@code PATH} or in the Debian package's own place.
 *
 * <p>Tests never skip when a peer is missing: {@link #require} fails with the command that installs
 * it. {@code .ci/run} installs every one of them with apt before running the build.
 */
public enum ExternalTool {
  PROMTOOL("prometheus", "promtool"),
  PROMETHEUS("prometheus", "prometheus"),
  ALERTMANAGER("prometheus-alertmanager", "prometheus-alertmanager", "alertmanager"),
  CHROMIUM("chromium", "chromium", "chromium-browser"),
  CHROMEDRIVER("chromium-driver", "chromedriver");

  private static final List<Path> DIRECTORIES =
      List.of(Path.of("/usr/bin"), Path.of("/usr/local/bin"), Path.of("/usr/lib/chromium"));

  private final String debianPackage;
  private final List<String> names;

  ExternalTool(String debianPackage, String... names) {
    this.debianPackage = debianPackage;
    this.names = List.of(names);
  }

  /** The Debian package that provides this program. */
  public String debianPackage() {
    return debianPackage;
  }

  /**
   * Returns the program's path.
   *
   * @throws AssertionError naming the package to install when the program is not found
   */
  public Path require() {
    String pathVariable = System.getenv().getOrDefault("PATH", "");
    for (String name : names) {
      for (String directory : pathVariable.split(java.io.File.pathSeparator)) {
        if (directory.isEmpty()) {
          continue;
        }
        Path candidate = Path.of(directory, name);
        if (Files.isExecutable(candidate)) {
          return candidate;
        }
      }
      for (Path directory : DIRECTORIES) {
        Path candidate = directory.resolve(name);
        if (Files.isExecutable(candidate)) {
          return candidate;
        }
      }
    }
    throw new AssertionError(
        "this test runs the real "
            + names.get(0)
            + ", which is not installed: apt-get install "
            + debianPackage
            + " (.ci/run installs it)");
  }
}
