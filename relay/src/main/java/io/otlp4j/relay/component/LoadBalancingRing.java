package io.otlp4j.relay.component;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.zip.CRC32;

/**
 * The {@code loadbalancing} exporter's consistent hash ring, laid out as the Collector's ({@code
 * consistent_hashing.go}): 36,000 positions; each endpoint takes 100 of them, position {@code
 * crc32(endpoint bytes + byte(i)) % 36000} for {@code i} in 0..99, a position already taken by an
 * earlier endpoint (in the sorted endpoint order) skipped; a key's owner is the endpoint at the
 * first position at or after {@code crc32(key) % 36000}, wrapping round. So a trace id routes to
 * the same backend as in a Collector with the same endpoint list, and adding or removing one of N
 * endpoints moves only the keys of the arcs it gains or loses, about 1/N of them.
 *
 * <p>Immutable and thread-safe. {@link #owner} allocates nothing.
 */
final class LoadBalancingRing {
  /** 360 degrees with two decimals, as the Collector. */
  static final int MAX_POSITIONS = 36_000;

  /** Points per endpoint, the Collector's {@code defaultWeight}. */
  static final int POINTS_PER_ENDPOINT = 100;

  private final List<String> endpoints;

  /** Sorted positions and, at the same index, the index in {@link #endpoints} of their owner. */
  private final int[] positions;

  private final int[] owners;

  /** A ring of {@code endpoints} (distinct, in the order whose earlier entries win a collision). */
  LoadBalancingRing(List<String> endpoints) {
    this.endpoints = List.copyOf(endpoints);
    long[] items = new long[this.endpoints.size() * POINTS_PER_ENDPOINT];
    int n = 0;
    Set<Integer> taken = new HashSet<>();
    CRC32 crc = new CRC32();
    for (int e = 0; e < this.endpoints.size(); e++) {
      byte[] name = this.endpoints.get(e).getBytes(StandardCharsets.UTF_8);
      for (int i = 0; i < POINTS_PER_ENDPOINT; i++) {
        crc.reset();
        crc.update(name);
        crc.update(i);
        int pos = (int) (crc.getValue() % MAX_POSITIONS);
        if (taken.add(pos)) {
          items[n++] = ((long) pos << 32) | e;
        }
      }
    }
    Arrays.sort(items, 0, n);
    positions = new int[n];
    owners = new int[n];
    for (int i = 0; i < n; i++) {
      positions[i] = (int) (items[i] >>> 32);
      owners[i] = (int) items[i];
    }
  }

  /** The endpoints, indexed as {@link #owner} answers. */
  List<String> endpoints() {
    return endpoints;
  }

  boolean isEmpty() {
    return endpoints.isEmpty();
  }

  /**
   * The index in {@link #endpoints()} of the owner of the key whose CRC-32 (IEEE) is {@code crc};
   * -1 for an empty ring.
   */
  int owner(long crc) {
    if (positions.length == 0) {
      return -1;
    }
    int pos = (int) (crc % MAX_POSITIONS);
    int i = Arrays.binarySearch(positions, pos);
    if (i < 0) {
      i = -i - 1; // the first position above
      if (i == positions.length) {
        i = 0;
      }
    }
    return owners[i];
  }

  /** The owner's endpoint of a key given as bytes (tests, and the Collector's own vectors). */
  String ownerOf(byte[] key) {
    CRC32 crc = new CRC32();
    crc.update(key);
    int i = owner(crc.getValue());
    return i < 0 ? null : endpoints.get(i);
  }
}
