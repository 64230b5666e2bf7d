package io.otlp4j.relay.component;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * One compiled {@code tail_sampling} policy, with the Collector's decision for a trace summary
 * ({@link TailSamplingTrace}): the leaves ({@code always_sample}, {@code latency}, {@code
 * status_code}, {@code probabilistic}, {@code string_attribute}, {@code numeric_attribute}, {@code
 * boolean_attribute}, {@code rate_limiting}, {@code span_count}) and the composites {@code and} and
 * {@code drop} over leaves.
 *
 * <p>What a leaf needs of the spans is taken on arrival ({@link TailSamplingScan}): attribute and
 * latency leaves own one bit of the trace's {@link TailSamplingTrace#matched} mask, set when a
 * resource or span of the trace matched; the rest read the summary's counts. Evaluating never looks
 * at the spans' bytes.
 *
 * <p>Thread-safety: immutable, except {@code rate_limiting}'s count of the current second, which
 * only the decision thread touches.
 */
abstract class TailSamplingPolicy {

  /** The Collector's decisions ({@code samplingpolicy.Decision}). */
  enum Decision {
    SAMPLED("sampled", "true"),
    NOT_SAMPLED("not_sampled", "false"),
    INVERT_SAMPLED("sampled", "true"),
    INVERT_NOT_SAMPLED("not_sampled", "false"),
    DROPPED("dropped", "false");

    /** The {@code decision} and {@code sampled} metric labels, as the Collector sets them. */
    final String label;

    final String sampled;

    Decision(String label, String sampled) {
      this.label = label;
      this.sampled = sampled;
    }
  }

  final String name;
  final String type;

  TailSamplingPolicy(String name, String type) {
    this.name = name;
    this.type = type;
  }

  /** This policy's decision for {@code trace}; {@code nowNanos} is the decision clock. */
  abstract Decision evaluate(TailSamplingTrace trace, long nowNanos);

  /** Whether this is a {@code drop} policy (evaluated first, as the Collector does). */
  boolean isDrop() {
    return false;
  }

  // ------------------------------------------------------------------------------------- leaves

  static final class AlwaysSample extends TailSamplingPolicy {
    AlwaysSample(String name) {
      super(name, "always_sample");
    }

    @Override
    Decision evaluate(TailSamplingTrace trace, long nowNanos) {
      return Decision.SAMPLED;
    }
  }

  /**
   * {@code latency}: the bit its {@link TailSamplingScan} sets while it runs over the spans in
   * arrival order with the running earliest start and latest end, as the Collector's evaluator does
   * (so with an upper threshold the first window in range decides).
   */
  static final class Latency extends TailSamplingPolicy {
    final long thresholdMs;
    final long upperThresholdMs;
    final long bit;

    Latency(String name, long thresholdMs, long upperThresholdMs, int bit) {
      super(name, "latency");
      this.thresholdMs = thresholdMs;
      this.upperThresholdMs = upperThresholdMs;
      this.bit = 1L << bit;
    }

    /** The Collector's test of one running window. */
    boolean inWindow(long minStart, long maxEnd) {
      long ms = (maxEnd - minStart) / 1_000_000L; // Go's Duration.Milliseconds: toward zero
      if (upperThresholdMs == 0) {
        return ms >= thresholdMs;
      }
      return thresholdMs < ms && ms <= upperThresholdMs;
    }

    @Override
    Decision evaluate(TailSamplingTrace trace, long nowNanos) {
      return (trace.matched & bit) != 0 ? Decision.SAMPLED : Decision.NOT_SAMPLED;
    }
  }

  /** {@code status_code}: any span whose status code is one of the listed. */
  static final class StatusCode extends TailSamplingPolicy {
    final int mask; // bit 0 UNSET, 1 OK, 2 ERROR

    StatusCode(String name, int mask) {
      super(name, "status_code");
      this.mask = mask;
    }

    @Override
    Decision evaluate(TailSamplingTrace trace, long nowNanos) {
      return (trace.statusMask & mask) != 0 ? Decision.SAMPLED : Decision.NOT_SAMPLED;
    }
  }

  /**
   * {@code probabilistic}: FNV-1a (64 bits) of the salt's bytes then the trace id's 16 bytes, at
   * most {@code floor(MaxUint64 * percentage / 100)} (as Go's {@code big.Float} computes it),
   * compared unsigned: the Collector's hash, so both sample the same traces.
   */
  static final class Probabilistic extends TailSamplingPolicy {
    static final String DEFAULT_SALT = "default-hash-seed";
    private static final long FNV_OFFSET = 0xcbf29ce484222325L;
    private static final long FNV_PRIME = 0x100000001b3L;
    final byte[] salt;
    final long threshold;

    Probabilistic(String name, String hashSalt, double percentage) {
      super(name, "probabilistic");
      this.salt =
          (hashSalt == null || hashSalt.isEmpty() ? DEFAULT_SALT : hashSalt)
              .getBytes(StandardCharsets.UTF_8);
      this.threshold = threshold(percentage / 100);
    }

    @Override
    Decision evaluate(TailSamplingTrace trace, long nowNanos) {
      return Long.compareUnsigned(hash(salt, trace.traceIdHigh, trace.traceIdLow), threshold) <= 0
          ? Decision.SAMPLED
          : Decision.NOT_SAMPLED;
    }

    /** FNV-1a 64 of {@code salt} then the trace id's bytes in wire order (big-endian halves). */
    static long hash(byte[] salt, long high, long low) {
      long h = FNV_OFFSET;
      for (byte b : salt) {
        h ^= b & 0xFF;
        h *= FNV_PRIME;
      }
      for (int i = 56; i >= 0; i -= 8) {
        h ^= (high >>> i) & 0xFF;
        h *= FNV_PRIME;
      }
      for (int i = 56; i >= 0; i -= 8) {
        h ^= (low >>> i) & 0xFF;
        h *= FNV_PRIME;
      }
      return h;
    }

    /**
     * Go's {@code new(big.Float).SetInt(MaxUint64).Mul(ratio).Uint64()}: the exact product rounded
     * to 64 significant bits (half to even, the precision SetInt gives), then truncated to an
     * unsigned integer (saturating at MaxUint64, 0 for a negative ratio).
     */
    static long threshold(double ratio) {
      if (!(ratio > 0)) {
        return 0;
      }
      BigInteger max = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);
      long bits = Double.doubleToLongBits(ratio);
      int exponent = (int) ((bits >>> 52) & 0x7FF);
      long mantissa = bits & ((1L << 52) - 1);
      if (exponent == 0) {
        exponent = 1; // subnormal
      } else {
        mantissa |= 1L << 52;
      }
      int e = exponent - 1075; // ratio = mantissa * 2^e
      BigInteger p = max.multiply(BigInteger.valueOf(mantissa));
      int shift = p.bitLength() - 64;
      if (shift > 0) {
        BigInteger q = p.shiftRight(shift);
        BigInteger rest = p.subtract(q.shiftLeft(shift));
        BigInteger half = BigInteger.ONE.shiftLeft(shift - 1);
        int c = rest.compareTo(half);
        if (c > 0 || (c == 0 && q.testBit(0))) {
          q = q.add(BigInteger.ONE);
        }
        p = q;
        e += shift;
      }
      BigInteger v = e >= 0 ? p.shiftLeft(e) : p.shiftRight(-e);
      return v.compareTo(max) >= 0 ? -1L : v.longValue();
    }
  }

  /**
   * {@code string_attribute}, {@code numeric_attribute} and {@code boolean_attribute}: the bit
   * {@link TailSamplingScan} sets when a resource or span of the trace carries the key with a
   * matching value; with {@code invert_match} the Collector's inverted decisions.
   */
  static final class Attribute extends TailSamplingPolicy {
    final TailSamplingMatcher matcher;
    final boolean invert;
    final long bit;

    Attribute(String name, String type, TailSamplingMatcher matcher, boolean invert, int bit) {
      super(name, type);
      this.matcher = matcher;
      this.invert = invert;
      this.bit = 1L << bit;
    }

    @Override
    Decision evaluate(TailSamplingTrace trace, long nowNanos) {
      boolean matched = (trace.matched & bit) != 0;
      if (invert) {
        return matched ? Decision.INVERT_NOT_SAMPLED : Decision.INVERT_SAMPLED;
      }
      return matched ? Decision.SAMPLED : Decision.NOT_SAMPLED;
    }
  }

  /**
   * {@code rate_limiting}: samples while the spans sampled in the current second plus this trace's
   * stay under {@code spans_per_second}.
   */
  static final class RateLimiting extends TailSamplingPolicy {
    final long spansPerSecond;
    private long currentSecond = Long.MIN_VALUE;
    private long spansInCurrentSecond;

    RateLimiting(String name, long spansPerSecond) {
      super(name, "rate_limiting");
      this.spansPerSecond = spansPerSecond;
    }

    @Override
    Decision evaluate(TailSamplingTrace trace, long nowNanos) {
      long second = Math.floorDiv(nowNanos, 1_000_000_000L);
      if (second != currentSecond) {
        currentSecond = second;
        spansInCurrentSecond = 0;
      }
      long ifSampled = spansInCurrentSecond + trace.spanCount;
      if (ifSampled < spansPerSecond) {
        spansInCurrentSecond = ifSampled;
        return Decision.SAMPLED;
      }
      return Decision.NOT_SAMPLED;
    }
  }

  /** {@code span_count}: at least {@code min_spans} and, unless 0, at most {@code max_spans}. */
  static final class SpanCount extends TailSamplingPolicy {
    final long minSpans;
    final long maxSpans;

    SpanCount(String name, long minSpans, long maxSpans) {
      super(name, "span_count");
      this.minSpans = minSpans;
      this.maxSpans = maxSpans;
    }

    @Override
    Decision evaluate(TailSamplingTrace trace, long nowNanos) {
      long n = trace.spanCount;
      if (n >= minSpans && (maxSpans == 0 || n <= maxSpans)) {
        return Decision.SAMPLED;
      }
      return Decision.NOT_SAMPLED;
    }
  }

  // --------------------------------------------------------------------------------- composites

  /**
   * {@code and} and {@code drop}: a sub-policy's {@code not_sampled} (plain or inverted) makes the
   * result {@code not_sampled}; otherwise {@code and} samples and {@code drop} drops.
   */
  static final class AllOf extends TailSamplingPolicy {
    final List<TailSamplingPolicy> subPolicies;
    final boolean drop;

    AllOf(String name, boolean drop, List<TailSamplingPolicy> subPolicies) {
      super(name, drop ? "drop" : "and");
      this.drop = drop;
      this.subPolicies = List.copyOf(subPolicies);
    }

    @Override
    boolean isDrop() {
      return drop;
    }

    @Override
    Decision evaluate(TailSamplingTrace trace, long nowNanos) {
      for (TailSamplingPolicy p : subPolicies) {
        Decision d = p.evaluate(trace, nowNanos);
        if (d == Decision.NOT_SAMPLED || d == Decision.INVERT_NOT_SAMPLED) {
          return Decision.NOT_SAMPLED;
        }
      }
      return drop ? Decision.DROPPED : Decision.SAMPLED;
    }
  }
}
