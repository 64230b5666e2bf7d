package io.otlp4j.relay.component;

import static io.otlp4j.relay.component.ConsistentSampling.ALL_RANDOMNESS;
import static io.otlp4j.relay.component.ConsistentSampling.ALWAYS;
import static io.otlp4j.relay.component.ConsistentSampling.MAX;
import static io.otlp4j.relay.component.ConsistentSampling.NEVER;
import static java.nio.charset.StandardCharsets.UTF_8;

import io.otlp4j.relay.component.ProbabilisticSamplerProcessorFactory.ProbabilisticSampler;
import io.otlp4j.relay.component.ProbabilisticSamplerProcessorFactory.SamplerCounts;
import io.otlp4j.wire.EditPolicy;
import io.otlp4j.wire.ElementView;
import io.otlp4j.wire.EncodedAttribute;
import io.otlp4j.wire.TextView;
import io.otlp4j.wire.ValueView;

/**
 * One request's pass of the {@code probabilistic_sampler}: decides span by span (log record by log
 * record) as the Collector's {@code commonShouldSampleLogic} does, and writes the sampling
 * information of what it keeps the Collector's way: a span's W3C {@code tracestate} ({@code
 * ot=rv:…;th:…}), a log record's {@code sampling.randomness} / {@code sampling.threshold}
 * attributes.
 *
 * <h2>The decision</h2>
 *
 * <ol>
 *   <li>Randomness and the carrier: mode {@code hash_seed} hashes the trace id (logs: or the {@code
 *       from_attribute} value) and refuses an item that already carries {@code rv} or {@code th};
 *       the consistent modes take an arriving {@code rv}, else the trace id's last 7 bytes.
 *   <li>An error (unparsable trace state or attributes, no randomness, an arriving threshold the
 *       randomness contradicts) samples nothing when {@code fail_closed}, everything otherwise;
 *       without one, the mode decides the threshold.
 *   <li>The priority overrides it: a span's {@code sampling.priority} (0: never; above 0: always),
 *       a log record's {@code sampling_priority} attribute (a percentage).
 *   <li>Sampled when {@code threshold <= randomness}; a sampled item's carrier gets the threshold
 *       (never one that raises the probability it already carries).
 * </ol>
 *
 * <h2>Cost</h2>
 *
 * Per span nothing is allocated: the trace id is hashed from the view's longs, the trace state is
 * parsed in place and written through one reused array, which the editor copies ({@link
 * ElementView#replaceTraceState}). A kept span is re-encoded (its trace state changes); a dropped
 * one is left out. Log records that are kept get attributes, which allocates. One thread.
 */
final class ProbabilisticSamplingPolicy implements EditPolicy {
  private static final System.Logger LOG =
      System.getLogger(ProbabilisticSamplingPolicy.class.getName());
  private static final byte[] PRIORITY_KEY = "sampling.priority".getBytes(UTF_8);
  static final String THRESHOLD_ATTRIBUTE = "sampling.threshold";
  static final String RANDOMNESS_ATTRIBUTE = "sampling.randomness";
  private static final byte[] THRESHOLD_KEY = THRESHOLD_ATTRIBUTE.getBytes(UTF_8);
  private static final byte[] RANDOMNESS_KEY = RANDOMNESS_ATTRIBUTE.getBytes(UTF_8);

  /** The Collector's sampler errors, for the log. */
  private static final String[] ERRORS = {
    null,
    "invalid tracestate size",
    "invalid tracestate syntax",
    "r-value must have 14 hex digits",
    "invalid t-value",
    "missing randomness",
    "item has sampling randomness, equalizing or proportional mode recommended",
    "item has sampling threshold, equalizing or proportional mode recommended",
    "inconsistent arriving threshold: item should not have been sampled",
  };

  private static final int MISSING = 5;
  private static final int RANDOMNESS_IN_USE = 6;
  private static final int THRESHOLD_IN_USE = 7;
  private static final int INCONSISTENT = 8;

  /** What the policy decided per policy name and outcome: {@code counts[2 * policy + sampled]}. */
  final long[] counts = new long[2 * SamplerCounts.POLICIES];

  private final ProbabilisticSampler sampler;
  private final W3cTraceState traceState = new W3cTraceState();
  private final byte[] scratch = new byte[W3cTraceState.MAX_SERIALIZED];
  private final ValueView value = new ValueView();
  long kept;
  long dropped;

  ProbabilisticSamplingPolicy(ProbabilisticSampler sampler) {
    this.sampler = sampler;
  }

  @Override
  public boolean visits(ElementView.Kind kind) {
    return kind == ElementView.Kind.SPAN || kind == ElementView.Kind.LOG_RECORD;
  }

  // --------------------------------------------------------------------------------- spans

  @Override
  public Decision span(ElementView span) {
    boolean tidEmpty = !span.hasTraceId() || (span.traceIdHigh() == 0 && span.traceIdLow() == 0);
    boolean parsed = traceState.parse(span.traceState());
    int error = parsed ? 0 : traceState.error();
    boolean carrier = parsed;
    long rnd = ALL_RANDOMNESS;
    boolean missing = false;
    int policy = SamplerCounts.PRIORITY; // the never sampler's name
    switch (sampler.mode()) {
      case NEVER -> {}
      case HASH_SEED -> {
        policy = SamplerCounts.TRACE_ID_HASH;
        if (tidEmpty) {
          missing = true;
          policy = SamplerCounts.MISSING;
        } else {
          int h = sampler.seedState();
          h = ConsistentSampling.fnvLong(h, span.traceIdHigh());
          h = ConsistentSampling.fnvLong(h, span.traceIdLow());
          rnd = ConsistentSampling.randomnessFromHash(h);
        }
        if (parsed) {
          if (traceState.hasR()) {
            error = RANDOMNESS_IN_USE;
            carrier = false;
          } else if (traceState.hasT()) {
            error = THRESHOLD_IN_USE;
            carrier = false;
          } else {
            traceState.setR(rnd);
          }
        }
      }
      default -> {
        missing = true;
        policy = SamplerCounts.MISSING;
        if (parsed) {
          if (traceState.hasR()) {
            rnd = traceState.r();
            missing = false;
            policy = SamplerCounts.SAMPLING_RANDOMNESS;
          } else if (!tidEmpty) {
            rnd = span.traceIdLow() & (MAX - 1);
            missing = false;
            policy = SamplerCounts.TRACE_ID_W3C;
          }
        }
      }
    }
    if (error == 0) {
      error = consistencyCheck(missing, carrier, rnd);
    }
    long threshold =
        error != 0 ? (sampler.failClosed() ? NEVER : ALWAYS) : decide(carrier && traceState.hasT());
    int priority = spanPriority(span);
    if (priority != 0) {
      threshold = priority > 0 ? ALWAYS : NEVER;
      policy = SamplerCounts.PRIORITY;
    }
    boolean sampled = threshold <= rnd;
    if (error != 0) {
      log("traces sampler", error);
    }
    if (sampled && carrier) {
      traceState.updateT(threshold);
      span.replaceTraceState(scratch, traceState.serialize(scratch));
    }
    return count(policy, sampled);
  }

  /** The arriving threshold must sample the randomness; where it does not, it is cleared. */
  private int consistencyCheck(boolean missing, boolean carrier, long rnd) {
    if (missing) {
      return MISSING;
    }
    if (carrier && traceState.hasT() && traceState.t() > rnd) {
      traceState.clearT();
      return INCONSISTENT;
    }
    return 0;
  }

  /** The mode's threshold, given the carrier's arriving one ({@code hasT}). */
  private long decide(boolean hasT) {
    return decide(hasT, hasT ? traceState.t() : 0);
  }

  private long decide(boolean hasT, long arriving) {
    return switch (sampler.mode()) {
      case NEVER -> NEVER;
      case HASH_SEED -> sampler.threshold();
      case EQUALIZING -> hasT && sampler.threshold() < arriving ? arriving : sampler.threshold();
      case PROPORTIONAL -> {
        double incoming = hasT ? ConsistentSampling.probability(arriving) : 1.0;
        long t =
            ConsistentSampling.probabilityToThreshold(
                incoming * sampler.ratio(), sampler.precision());
        yield t < 0 ? NEVER : t;
      }
    };
  }

  /**
   * A span's {@code sampling.priority} (OpenTracing's convention, as the Collector reads it): 1 for
   * must sample, -1 for must not, 0 to leave it to the sampler.
   */
  private int spanPriority(ElementView span) {
    ValueView v = span.attribute(PRIORITY_KEY, value);
    double d;
    switch (v.type()) {
      case INT -> d = v.intValue();
      case DOUBLE -> d = v.doubleValue();
      case STRING -> d = GoFloat.parse(v.stringValue());
      default -> {
        return 0;
      }
    }
    return d == 0 ? -1 : d > 0 ? 1 : 0;
  }

  private Decision count(int policy, boolean sampled) {
    counts[2 * policy + (sampled ? 1 : 0)]++;
    if (sampled) {
      kept++;
      return Decision.KEEP;
    }
    dropped++;
    return Decision.DROP;
  }

  private void log(String what, int error) {
    if (LOG.isLoggable(System.Logger.Level.DEBUG)) {
      LOG.log(System.Logger.Level.DEBUG, what + ": " + ERRORS[error]);
    }
  }

  // ----------------------------------------------------------------------------- log records

  @Override
  public Decision logRecord(ElementView record) {
    boolean tidEmpty =
        !record.hasTraceId() || (record.traceIdHigh() == 0 && record.traceIdLow() == 0);
    // The carrier: sampling.threshold and sampling.randomness (string attributes).
    int error = 0;
    long arrivingT = -1;
    long arrivingR = -1;
    TextView th = stringAttribute(record, THRESHOLD_KEY);
    if (th.utf8Length() > 0) {
      arrivingT = ConsistentSampling.parseTValue(th, 0, th.length());
      error = arrivingT < 0 ? W3cTraceState.T_VALUE : 0;
    }
    TextView rv = stringAttribute(record, RANDOMNESS_KEY);
    if (rv.utf8Length() > 0) {
      arrivingR = ConsistentSampling.parseRValue(rv, 0, rv.length());
      error = arrivingR < 0 ? W3cTraceState.R_VALUE : error;
    }
    boolean carrier = error == 0;
    long rnd = ALL_RANDOMNESS;
    boolean missing = false;
    int policy = SamplerCounts.PRIORITY;
    switch (sampler.mode()) {
      case NEVER -> {}
      case HASH_SEED -> {
        missing = true;
        policy = SamplerCounts.MISSING;
        if (sampler.traceIdSource() && !tidEmpty) {
          int h = sampler.seedState();
          h = ConsistentSampling.fnvLong(h, record.traceIdHigh());
          h = ConsistentSampling.fnvLong(h, record.traceIdLow());
          rnd = ConsistentSampling.randomnessFromHash(h);
          missing = false;
          policy = SamplerCounts.TRACE_ID_HASH;
        }
        if (missing && sampler.fromAttribute() != null) {
          long h = hashAttribute(record, sampler.fromAttribute());
          if (h >= 0) {
            rnd = ConsistentSampling.randomnessFromHash((int) h);
            missing = false;
            policy = SamplerCounts.ATTRIBUTE;
          }
        }
        if (carrier) {
          if (arrivingR >= 0) {
            error = RANDOMNESS_IN_USE;
            carrier = false;
          } else if (arrivingT >= 0) {
            error = THRESHOLD_IN_USE;
            carrier = false;
          } else if (!missing) {
            record
                .attributes()
                .upsert(EncodedAttribute.of(RANDOMNESS_ATTRIBUTE, ConsistentSampling.rValue(rnd)));
          }
        }
      }
      default -> {
        missing = true;
        policy = SamplerCounts.MISSING;
        if (carrier) {
          if (arrivingR >= 0) {
            rnd = arrivingR;
            missing = false;
            policy = SamplerCounts.SAMPLING_RANDOMNESS;
          } else if (!tidEmpty) {
            rnd = record.traceIdLow() & (MAX - 1);
            missing = false;
            policy = SamplerCounts.TRACE_ID_W3C;
          }
        }
      }
    }
    if (error == 0) {
      if (missing) {
        error = MISSING;
      } else if (carrier && arrivingT >= 0 && arrivingT > rnd) {
        record.attributes().removeAll(THRESHOLD_KEY);
        arrivingT = -1;
        error = INCONSISTENT;
      }
    }
    long threshold =
        error != 0
            ? (sampler.failClosed() ? NEVER : ALWAYS)
            : decide(carrier && arrivingT >= 0, arrivingT);
    if (sampler.priorityKey() != null) {
      long p = logPriority(record);
      if (p >= 0) {
        threshold = p;
        policy = SamplerCounts.PRIORITY;
      }
    }
    boolean sampled = threshold <= rnd;
    if (error != 0) {
      log("logs sampler", error);
    }
    if (sampled && carrier && !(arrivingT >= 0 && threshold < arrivingT)) {
      record
          .attributes()
          .upsert(EncodedAttribute.of(THRESHOLD_ATTRIBUTE, ConsistentSampling.tValue(threshold)));
    }
    return count(policy, sampled);
  }

  private TextView stringAttribute(ElementView record, byte[] key) {
    ValueView v = record.attribute(key, value);
    return v.stringValue(); // absent (empty) unless a string
  }

  /**
   * FNV-1a of the attribute's value as the Collector takes it (bytes as they are, others as their
   * string form) as an unsigned 32-bit number, or -1 when absent or empty. String, bytes, int and
   * bool values are read; a double, array or map value counts as absent (see the README).
   */
  private long hashAttribute(ElementView record, byte[] key) {
    ValueView v = record.attribute(key, value);
    int h = sampler.seedState();
    switch (v.type()) {
      case STRING, BYTES -> {
        int n = v.rawLength();
        if (n == 0) {
          return -1;
        }
        for (int i = 0; i < n; i++) {
          h = ConsistentSampling.fnvByte(h, v.rawByte(i));
        }
        return h & 0xffffffffL;
      }
      case INT -> {
        String s = Long.toString(v.intValue());
        for (int i = 0; i < s.length(); i++) {
          h = ConsistentSampling.fnvByte(h, (byte) s.charAt(i));
        }
        return h & 0xffffffffL;
      }
      case BOOL -> {
        String s = v.boolValue() ? "true" : "false";
        for (int i = 0; i < s.length(); i++) {
          h = ConsistentSampling.fnvByte(h, (byte) s.charAt(i));
        }
        return h & 0xffffffffL;
      }
      default -> {
        return -1;
      }
    }
  }

  /**
   * The threshold a log record's priority attribute asks for (a percentage, int or double), or -1
   * when it has none that counts: 0 and values outside (0, 100] leave the decision alone, as in the
   * Collector.
   */
  private long logPriority(ElementView record) {
    ValueView v = record.attribute(sampler.priorityKey(), value);
    double minProb =
        switch (v.type()) {
          case INT -> v.intValue() / 100.0;
          case DOUBLE -> v.doubleValue() / 100.0;
          default -> 0;
        };
    if (minProb == 0) {
      return -1;
    }
    return ConsistentSampling.probabilityToThreshold(minProb, sampler.precision());
  }
}
