package io.otlp4j.relay.component;

import io.otlp4j.relay.config.BearerTokenAuthConfig;
import io.otlp4j.relay.config.ConfigNode;
import io.otlp4j.relay.config.ConfigReader;
import io.otlp4j.relay.config.Secret;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The {@code bearertokenauth} extension: {@code token} or {@code filename} (read now, trimmed).
 * Receivers check it and exporters send it ({@code auth.authenticator}); the token never appears in
 * an error.
 */
final class BearerTokenAuthExtensionFactory implements ExtensionFactory<BearerTokenAuthConfig> {

  @Override
  public String type() {
    return "bearertokenauth";
  }

  @Override
  public BearerTokenAuthConfig read(String id, ConfigNode node, String where, ConfigReader in) {
    Map<String, ConfigNode> m = in.mapOrEmpty(node, where);
    if (m == null) {
      return null;
    }
    in.checkKeys(m, where, List.of("tokens"), "scheme", "header", "token", "filename");
    ConfigNode scheme = m.get("scheme");
    if (scheme != null && !"Bearer".equals(scheme.text())) {
      in.error(
          scheme.line(),
          where + ".scheme",
          "'" + scheme.value() + "' is not supported (supported: Bearer)");
    }
    ConfigNode header = m.get("header");
    if (header != null
        && (header.text() == null || !header.text().equalsIgnoreCase("Authorization"))) {
      in.error(
          header.line(),
          where + ".header",
          "'" + header.value() + "' is not supported (supported: Authorization)");
    }
    ConfigNode token = m.get("token");
    ConfigNode filename = m.get("filename");
    if ((token == null) == (filename == null)) {
      in.error(node.line(), where, "set exactly one of token and filename");
      return null;
    }
    String value;
    int line;
    if (token != null) {
      value = token.text();
      line = token.line();
      if (value == null) {
        in.error(line, where + ".token", "must be a string");
        return null;
      }
    } else {
      Path file = in.file(filename, where + ".filename");
      if (file == null) {
        return null;
      }
      line = filename.line();
      try {
        value = Files.readString(file, StandardCharsets.UTF_8).trim();
      } catch (IOException | RuntimeException e) {
        in.error(
            line,
            where + ".filename",
            "cannot read '" + filename.value() + "': " + e.getClass().getSimpleName());
        return null;
      }
    }
    if (value.isBlank()) {
      in.error(line, where + (token != null ? ".token" : ".filename"), "the token is empty");
      return null;
    }
    return new BearerTokenAuthConfig(id, new Secret(value));
  }
}
