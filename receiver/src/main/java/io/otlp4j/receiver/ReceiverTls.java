package io.otlp4j.receiver;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * TLS settings for a receiver: the server's PEM certificate chain and PKCS#8 PEM private key, and
 * optionally a PEM CA bundle that client certificates must chain to (mutual TLS: a client without a
 * certificate from that CA is refused during the handshake).
 *
 * <p>Immutable and thread-safe. The files are read when the receiver is built.
 */
public final class ReceiverTls {

  private final Path certificateChain;
  private final Path privateKey;
  private final Path clientCa;

  private ReceiverTls(Path certificateChain, Path privateKey, Path clientCa) {
    this.certificateChain = certificateChain;
    this.privateKey = privateKey;
    this.clientCa = clientCa;
  }

  /**
   * Server TLS without client authentication.
   *
   * @throws IllegalArgumentException naming the file when one is not a readable file
   */
  public static ReceiverTls server(Path certificateChain, Path privateKey) {
    return new ReceiverTls(
        readable(certificateChain, "certificateChain"), readable(privateKey, "privateKey"), null);
  }

  /**
   * A copy that requires client certificates issued by the CAs in {@code clientCa} (mutual TLS).
   */
  public ReceiverTls requireClientCertificates(Path clientCa) {
    return new ReceiverTls(certificateChain, privateKey, readable(clientCa, "clientCa"));
  }

  /** The server's certificate chain (PEM). */
  public Path certificateChain() {
    return certificateChain;
  }

  /** The server's private key (PKCS#8 PEM). */
  public Path privateKey() {
    return privateKey;
  }

  /** The CA bundle client certificates must chain to, if mutual TLS is on. */
  public Optional<Path> clientCa() {
    return Optional.ofNullable(clientCa);
  }

  private static Path readable(Path path, String name) {
    Objects.requireNonNull(path, name);
    if (!Files.isRegularFile(path) || !Files.isReadable(path)) {
      throw new IllegalArgumentException(name + " is not a readable file: " + path);
    }
    return path;
  }

  @Override
  public String toString() {
    return "ReceiverTls{cert="
        + certificateChain
        + ", key="
        + privateKey
        + (clientCa != null ? ", clientCa=" + clientCa : "")
        + "}";
  }
}
