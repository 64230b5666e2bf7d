package io.otlp4j.receiver;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Checks {@code Authorization: Bearer <token>} values against the configured token in constant
 * time: both sides are hashed with SHA-256 first, so neither the content nor the length of the
 * token leaks through timing. The token is never logged or included in {@link #toString()}.
 *
 * <p>Immutable and thread-safe.
 */
final class BearerAuth {

  private static final String SCHEME = "bearer ";

  /** Null when authentication is off. */
  private final byte[] expectedDigest;

  private BearerAuth(byte[] expectedDigest) {
    this.expectedDigest = expectedDigest;
  }

  static BearerAuth none() {
    return new BearerAuth(null);
  }

  static BearerAuth of(String token) {
    if (token == null || token.isBlank()) {
      throw new IllegalArgumentException("bearer token must not be empty");
    }
    return new BearerAuth(sha256(token.getBytes(StandardCharsets.UTF_8)));
  }

  boolean enabled() {
    return expectedDigest != null;
  }

  /** Whether the request's {@code authorization} value (possibly null) is accepted. */
  boolean permits(String authorization) {
    if (expectedDigest == null) {
      return true;
    }
    if (authorization == null
        || authorization.length() < SCHEME.length()
        || !authorization.regionMatches(true, 0, SCHEME, 0, SCHEME.length())) {
      return false;
    }
    byte[] presented =
        authorization.substring(SCHEME.length()).trim().getBytes(StandardCharsets.UTF_8);
    return MessageDigest.isEqual(expectedDigest, sha256(presented));
  }

  private static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  @Override
  public String toString() {
    return expectedDigest == null ? "BearerAuth{off}" : "BearerAuth{on}";
  }
}
