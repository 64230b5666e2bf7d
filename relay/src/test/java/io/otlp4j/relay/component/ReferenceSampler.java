package io.otlp4j.relay.component;

/**
 * A deliberately plain second implementation of the Collector's {@code hash_seed} arithmetic, for
 * tests: FNV-1a 32 over the seed's four little-endian bytes followed by the data (written from the
 * FNV specification: offset basis 2166136261, prime 16777619), the legacy decision {@code (hash &
 * 0x3fff) < uint32(percent * 163.84)} in 32-bit floating point, and the 56-bit randomness the
 * Collector writes as {@code rv}. Checked by hand against the Collector tests' published values
 * ({@code computeHash(nil, 0) & 0x3fff == 0x3515}, 16 zero bytes: {@code 0x2455}).
 */
final class ReferenceSampler {
  private ReferenceSampler() {}

  static int fnv1a(byte[] data, int seed) {
    byte[] all = new byte[4 + data.length];
    all[0] = (byte) seed;
    all[1] = (byte) (seed >> 8);
    all[2] = (byte) (seed >> 16);
    all[3] = (byte) (seed >> 24);
    System.arraycopy(data, 0, all, 4, data.length);
    long h = 2166136261L;
    for (byte b : all) {
      h ^= b & 0xff;
      h = (h * 16777619L) & 0xffffffffL;
    }
    return (int) h;
  }

  /** The legacy decision of mode {@code hash_seed}. */
  static boolean sampled(byte[] traceId, int seed, float percent) {
    int bucket = fnv1a(traceId, seed) & 0x3fff;
    int accepted = (int) (Math.min(percent, 100f) * 163.84f);
    return bucket < accepted;
  }

  /** The Collector's {@code randomnessFromBytes}. */
  static long randomnessFromBytes(byte[] data, int seed) {
    long hashed32 = fnv1a(data, seed) & 0xffffffffL;
    long hashed = hashed32 % 16384;
    long rPrime = 16383 - hashed;
    long unused18 = hashed32 / 16384;
    long mixed28 = unused18 ^ (unused18 * 1024);
    return rPrime * (1L << 42) + mixed28 * 16384 + hashed;
  }

  static String rValue(long randomness) {
    return String.format("%014x", randomness);
  }
}
