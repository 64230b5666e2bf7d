package io.otlp4j.relay.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Reads the Collector's {@code configtls} settings of a server (a receiver) and of a client (an
 * exporter). Stateless.
 */
public final class TlsSettingsReader {
  private TlsSettingsReader() {}

  /** A server's {@code tls}: null when absent or (with an error) incomplete. */
  public static ReceiverConfig.ServerTls serverTls(ConfigReader in, ConfigNode node, String where) {
    if (node == null || node.isNull()) {
      return null;
    }
    Map<String, ConfigNode> m = in.map(node, where);
    if (m == null) {
      return null;
    }
    in.checkKeys(
        m,
        where,
        List.of(
            "cert_pem",
            "key_pem",
            "ca_pem",
            "client_ca_file_reload",
            "reload_interval",
            "cipher_suites",
            "include_system_ca_certs_pool",
            "curve_preferences"),
        "cert_file",
        "key_file",
        "client_ca_file",
        "ca_file",
        "min_version",
        "max_version");
    tlsVersions(in, m, where);
    Path cert = in.file(m.get("cert_file"), where + ".cert_file");
    Path key = in.file(m.get("key_file"), where + ".key_file");
    Path clientCa = in.file(m.get("client_ca_file"), where + ".client_ca_file");
    // ca_file: read by the Collector into a server's root CAs, which a server never uses; accepted.
    in.file(m.get("ca_file"), where + ".ca_file");
    if (cert == null || key == null) {
      if (m.get("cert_file") == null || m.get("key_file") == null) {
        in.error(node.line(), where, "a server needs cert_file and key_file");
      }
      return null;
    }
    return new ReceiverConfig.ServerTls(cert, key, clientCa);
  }

  /** A client's {@code tls}; {@code insecure[0]} is set to its {@code insecure}. */
  public static ClientTls clientTls(
      ConfigReader in, ConfigNode node, String where, boolean[] insecure) {
    if (node == null || node.isNull()) {
      return ClientTls.NONE;
    }
    Map<String, ConfigNode> m = in.map(node, where);
    if (m == null) {
      return ClientTls.NONE;
    }
    in.checkKeys(
        m,
        where,
        List.of(
            "cert_pem",
            "key_pem",
            "ca_pem",
            "reload_interval",
            "cipher_suites",
            "include_system_ca_certs_pool",
            "curve_preferences"),
        "insecure",
        "insecure_skip_verify",
        "ca_file",
        "cert_file",
        "key_file",
        "server_name_override",
        "min_version",
        "max_version");
    tlsVersions(in, m, where);
    insecure[0] = in.bool(m.get("insecure"), where + ".insecure", false);
    ConfigNode skip = m.get("insecure_skip_verify");
    if (in.bool(skip, where + ".insecure_skip_verify", false)) {
      in.error(
          skip.line(),
          where + ".insecure_skip_verify",
          "true is not supported: otlp4j always verifies "
              + "the server's certificate (give its CA in ca_file)");
    }
    ConfigNode sni = m.get("server_name_override");
    if (sni != null && sni.text() != null && !sni.text().isEmpty()) {
      in.error(
          sni.line(),
          where + ".server_name_override",
          "is not supported: the certificate must name the " + "endpoint's host");
    }
    Path ca = in.file(m.get("ca_file"), where + ".ca_file");
    Path cert = in.file(m.get("cert_file"), where + ".cert_file");
    Path key = in.file(m.get("key_file"), where + ".key_file");
    if ((m.get("cert_file") == null) != (m.get("key_file") == null)) {
      in.error(node.line(), where, "cert_file and key_file must be given together");
    }
    return new ClientTls(ca, cert, key);
  }

  /** min_version/max_version: otlp4j speaks TLS 1.2 and 1.3, the Collector's default range. */
  private static void tlsVersions(ConfigReader in, Map<String, ConfigNode> m, String where) {
    ConfigNode min = m.get("min_version");
    if (min != null && !"1.2".equals(min.text())) {
      in.error(
          min.line(),
          where + ".min_version",
          "'"
              + min.value()
              + "' is not supported (supported: 1.2, "
              + "the default: otlp4j accepts TLS 1.2 and 1.3)");
    }
    ConfigNode max = m.get("max_version");
    if (max != null && !"1.3".equals(max.text()) && !"".equals(max.text())) {
      in.error(
          max.line(),
          where + ".max_version",
          "'" + max.value() + "' is not supported (supported: 1.3)");
    }
  }
}
