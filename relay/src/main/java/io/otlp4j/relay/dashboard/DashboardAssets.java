package io.otlp4j.relay.dashboard;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Properties;

/**
 * The dashboard's static files, read once from the classpath: the page, its script and style sheet
 * (this package's resources) and uPlot's {@code dist/} files from the {@code org.webjars.npm:uplot}
 * jar ({@code META-INF/resources/webjars/uplot/<version>/}; uPlot is MIT licensed, its LICENSE is
 * served too). About 60 KB in all. Immutable, thread-safe.
 */
final class DashboardAssets {
  private static final String OWN = "/io/otlp4j/relay/dashboard/";
  private static final String UPLOT_POM = "/META-INF/maven/org.webjars.npm/uplot/pom.properties";

  private final Asset page;
  private final Map<String, Asset> assets;

  private DashboardAssets(Asset page, Map<String, Asset> assets) {
    this.page = page;
    this.assets = assets;
  }

  /**
   * Reads every asset.
   *
   * @throws IllegalStateException when one is missing from the classpath (a broken build)
   */
  static DashboardAssets load() {
    String uplot = "/META-INF/resources/webjars/uplot/" + uplotVersion() + "/";
    return new DashboardAssets(
        read(OWN + "dashboard.html", "text/html; charset=utf-8"),
        Map.of(
            "dashboard.js", read(OWN + "dashboard.js", "text/javascript; charset=utf-8"),
            "dashboard.css", read(OWN + "dashboard.css", "text/css; charset=utf-8"),
            "uPlot.iife.min.js",
                read(uplot + "dist/uPlot.iife.min.js", "text/javascript; charset=utf-8"),
            "uPlot.min.css", read(uplot + "dist/uPlot.min.css", "text/css; charset=utf-8"),
            "uPlot.LICENSE", read(uplot + "LICENSE", "text/plain; charset=utf-8")));
  }

  /** The version of the uPlot webjar on the classpath. */
  static String uplotVersion() {
    Properties p = new Properties();
    try (InputStream in = DashboardAssets.class.getResourceAsStream(UPLOT_POM)) {
      if (in == null) {
        throw new IllegalStateException("uPlot's webjar is not on the classpath: " + UPLOT_POM);
      }
      p.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return p.getProperty("version");
  }

  Asset page() {
    return page;
  }

  /** The asset served as {@code /assets/<name>}, or null. */
  Asset asset(String name) {
    return assets.get(name);
  }

  private static Asset read(String resource, String contentType) {
    try (InputStream in = DashboardAssets.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("dashboard asset missing from the classpath: " + resource);
      }
      return new Asset(in.readAllBytes(), contentType);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A file's bytes (never modified) and content type. */
  static final class Asset {
    final byte[] bytes;
    final String contentType;

    Asset(byte[] bytes, String contentType) {
      this.bytes = bytes;
      this.contentType = contentType;
    }
  }
}
