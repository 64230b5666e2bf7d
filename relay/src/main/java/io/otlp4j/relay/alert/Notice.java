package io.otlp4j.relay.alert;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.SortedMap;

/**
 * One alert as a notification carries it (Alertmanager's postable alert): firing alerts end at
 * {@code endsAt} unless re-sent (Prometheus sends {@code now + 4 × max(resend delay, interval)}),
 * resolved ones at the instant they resolved. Immutable.
 *
 * @param labels the alert's labels, {@code alertname} included
 * @param annotations its annotations, templates rendered
 * @param startsAt when it started firing
 * @param endsAt when it ends (resolved) or when Alertmanager may consider it resolved if not
 *     re-sent
 * @param firing whether it is firing (else resolved)
 * @param generatorUrl where it comes from (the relay's admin address)
 */
record Notice(
    SortedMap<String, String> labels,
    Map<String, String> annotations,
    Instant startsAt,
    Instant endsAt,
    boolean firing,
    String generatorUrl) {

  /**
   * Alertmanager's fingerprint of a label set: FNV-1a 64 over each name and value, in name order,
   * each followed by the byte 0xff, printed as 16 hex digits.
   */
  String fingerprint() {
    long hash = 0xcbf29ce484222325L;
    for (Map.Entry<String, String> e : labels.entrySet()) {
      hash = fnv(hash, e.getKey());
      hash = fnv(hash, e.getValue());
    }
    return String.format("%016x", hash);
  }

  private static long fnv(long hash, String s) {
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      hash ^= b & 0xff;
      hash *= 0x100000001b3L;
    }
    hash ^= 0xff;
    hash *= 0x100000001b3L;
    return hash;
  }
}
