package io.otlp4j.relay.component;

import static java.nio.charset.StandardCharsets.US_ASCII;

/**
 * The arithmetic of the Collector's {@code probabilistic_sampler} (its {@code pkg/sampling}),
 * written from its specification and behaviour: OpenTelemetry consistent probability sampling with
 * 56-bit randomness and thresholds (OTEP 235, the W3C Trace Context level 2 random trace id), and
 * the legacy hash of the {@code hash_seed} mode mapped onto it.
 *
 * <p>A <em>threshold</em> is the number of the 2<sup>56</sup> randomness values that are rejected:
 * 0 samples everything ({@link #ALWAYS}), 2<sup>56</sup> nothing ({@link #NEVER}); an item is
 * sampled when {@code threshold <= randomness}. Randomness is a value below 2<sup>56</sup>: the
 * last 7 bytes of the trace id, an explicit {@code rv}, or (mode {@code hash_seed}) derived from an
 * FNV-1a hash. All values fit a positive {@code long}, so plain comparisons work. Static and
 * allocation free except where a method says so.
 */
final class ConsistentSampling {
  /** 2<sup>56</sup>: the number of randomness values, and the never-sample threshold. */
  static final long MAX = 1L << 56;

  static final long ALWAYS = 0;
  static final long NEVER = MAX;

  /** The randomness that every threshold but {@link #NEVER} samples. */
  static final long ALL_RANDOMNESS = MAX - 1;

  /** The smallest probability a threshold can express: 2<sup>-56</sup>. */
  static final double MIN_PROBABILITY = 1.0 / MAX;

  /** The hex digits of a full threshold or randomness. */
  static final int HEX_DIGITS = 14;

  /** The legacy hash's 14-bit buckets. */
  private static final int HASH_BUCKETS_LOG2 = 14;

  private static final int HASH_BUCKETS = 1 << HASH_BUCKETS_LOG2;
  private static final int FNV_OFFSET = 0x811c9dc5;
  private static final int FNV_PRIME = 0x01000193;
  private static final byte[] HEX = "0123456789abcdef".getBytes(US_ASCII);

  private ConsistentSampling() {}

  // ------------------------------------------------------------------------ the hash_seed hash

  /** FNV-1a (32 bit) state after the four bytes of {@code seed}, least significant first. */
  static int fnvSeeded(int seed) {
    int h = FNV_OFFSET;
    for (int i = 0; i < 4; i++) {
      h = fnvByte(h, (byte) (seed >>> (8 * i)));
    }
    return h;
  }

  static int fnvByte(int h, byte b) {
    return (h ^ (b & 0xff)) * FNV_PRIME;
  }

  /** {@code h} continued with the 8 bytes of {@code bigEndian}, most significant first. */
  static int fnvLong(int h, long bigEndian) {
    for (int shift = 56; shift >= 0; shift -= 8) {
      h = fnvByte(h, (byte) (bigEndian >>> shift));
    }
    return h;
  }

  /**
   * The 56-bit randomness the Collector derives from a 32-bit FNV hash: its top 14 bits are {@code
   * 2^14 - 1 - (hash & 0x3fff)}, so that {@code threshold <= randomness} holds exactly when the
   * legacy test {@code (hash & 0x3fff) < scaled rate} does; below them, a mix of the hash's 18
   * unused bits, and the 14 hashed bits again.
   */
  static long randomnessFromHash(int hash32) {
    long hashed = hash32 & (HASH_BUCKETS - 1);
    long rprime14 = HASH_BUCKETS - 1 - hashed;
    long unused18 = (hash32 & 0xffffffffL) >>> HASH_BUCKETS_LOG2;
    long mixed28 = unused18 ^ (unused18 << 10);
    return (rprime14 << 42) | (mixed28 << 14) | hashed;
  }

  /**
   * The {@code hash_seed} mode's threshold for {@code percent}: the accepted buckets are {@code
   * (uint32)(percent * 163.84)} computed in 32-bit floating point and truncated, as the Collector
   * always has (so 10 % is 1638 buckets, threshold {@code e668}); {@link #NEVER} when that is 0.
   */
  static long hashSeedThreshold(float percent) {
    float pct = Math.min(percent, 100f);
    float scaleFactor = HASH_BUCKETS / 100.0f;
    long scaled = (long) (pct * scaleFactor);
    if (scaled <= 0) {
      return NEVER;
    }
    return (HASH_BUCKETS - scaled) << 42;
  }

  // ------------------------------------------------------------------------ probabilities

  /**
   * The threshold for sampling probability {@code fraction} rounded to {@code precision} hex digits
   * (0: all 14), or -1 when {@code fraction} is outside {@code [2^-56, 1]}. As in the Collector,
   * precision grows by one digit for every 4 binary orders of magnitude that {@code fraction} or
   * {@code 1 - fraction} lies below 1/2, up to 14 digits, so that probabilities near 0 or 1 keep
   * their relative accuracy.
   */
  static long probabilityToThreshold(double fraction, int precision) {
    if (precision == 0) {
      precision = HEX_DIGITS;
    }
    if (!(fraction >= MIN_PROBABILITY && fraction <= 1)) {
      return -1;
    }
    if (fraction == 1) {
      return ALWAYS;
    }
    int expF = frexpExponent(fraction);
    int expR = frexpExponent(1 - fraction);
    precision = Math.min(HEX_DIGITS, Math.max(precision + expF / -4, precision + expR / -4));
    long scaled = Math.round(fraction * MAX);
    long threshold = MAX - scaled;
    int shift = 4 * (HEX_DIGITS - precision);
    if (shift != 0) {
      long half = 1L << (shift - 1);
      threshold += half;
      threshold >>>= shift;
      threshold <<= shift;
    }
    return threshold;
  }

  /** Go's {@code math.Frexp} exponent: {@code x = f * 2^e} with {@code f} in [0.5, 1). */
  private static int frexpExponent(double x) {
    return Math.getExponent(x) + 1;
  }

  /** The probability a threshold samples with. */
  static double probability(long threshold) {
    return (double) (MAX - threshold) / (double) MAX;
  }

  // ------------------------------------------------------------------------ encodings

  /**
   * Writes {@code threshold}'s t-value (hex, trailing zeros left out; {@code 0} for {@link
   * #ALWAYS}; nothing for {@link #NEVER}) into {@code out} at {@code at}; returns the new position.
   */
  static int writeTValue(long threshold, byte[] out, int at) {
    if (threshold == ALWAYS) {
      out[at] = '0';
      return at + 1;
    }
    if (threshold >= NEVER || threshold < 0) {
      return at;
    }
    int digits = HEX_DIGITS;
    while ((threshold >>> (4 * (HEX_DIGITS - digits))) % 16 == 0) {
      digits--;
    }
    for (int i = 0; i < digits; i++) {
      out[at + i] = HEX[(int) ((threshold >>> (4 * (HEX_DIGITS - 1 - i))) & 0xf)];
    }
    return at + digits;
  }

  /** {@link #writeTValue} as a string (allocates). */
  static String tValue(long threshold) {
    byte[] b = new byte[HEX_DIGITS];
    int n = writeTValue(threshold, b, 0);
    return new String(b, 0, n, US_ASCII);
  }

  /** Writes {@code randomness} as an r-value (14 hex digits) at {@code at}; returns the new end. */
  static int writeRValue(long randomness, byte[] out, int at) {
    for (int i = 0; i < HEX_DIGITS; i++) {
      out[at + i] = HEX[(int) ((randomness >>> (4 * (HEX_DIGITS - 1 - i))) & 0xf)];
    }
    return at + HEX_DIGITS;
  }

  /** {@link #writeRValue} as a string (allocates). */
  static String rValue(long randomness) {
    byte[] b = new byte[HEX_DIGITS];
    writeRValue(randomness, b, 0);
    return new String(b, US_ASCII);
  }

  /**
   * A t-value's threshold: 1 to 14 hex digits (either case), trailing zeros implied; -1 when it is
   * not one.
   */
  static long parseTValue(CharSequence s, int start, int end) {
    int n = end - start;
    if (n < 1 || n > HEX_DIGITS) {
      return -1;
    }
    long v = parseHex(s, start, end);
    return v < 0 ? -1 : v << (4 * (HEX_DIGITS - n));
  }

  /** An r-value's randomness: exactly 14 hex digits (either case); -1 when it is not one. */
  static long parseRValue(CharSequence s, int start, int end) {
    return end - start == HEX_DIGITS ? parseHex(s, start, end) : -1;
  }

  private static long parseHex(CharSequence s, int start, int end) {
    long v = 0;
    for (int i = start; i < end; i++) {
      char c = s.charAt(i);
      int d =
          c >= '0' && c <= '9'
              ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
      if (d < 0) {
        return -1;
      }
      v = (v << 4) | d;
    }
    return v;
  }
}
