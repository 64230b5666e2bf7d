package io.otlp4j.core;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The outcome of one {@link RequestCoalescer} operation, attributed to the payloads it carried:
 * either one value for all of them ({@link #uniform(Object)}), or one outcome per payload, aligned
 * with the list the operation received ({@link #perPayload(List)}, {@link #builder(int)}).
 *
 * <p>Partial success is expressed per payload: an operation that learns that part of a group was
 * refused (an OTLP {@code partial_success} with a rejected count, a write that stored only some
 * records) either fails the payloads it can name ({@link Builder#fail(int, Throwable)}) or gives
 * each payload a value that carries its share (for example its own rejected count, when the
 * operation can attribute it, or the group's counts when it cannot). The coalescer does not
 * interpret {@code R}.
 *
 * <p>Immutable and thread-safe once built.
 *
 * @param <R> the per-caller result type
 */
public final class GroupResult<R> {

  private static final Object[] UNIFORM = new Object[0];

  private final Object uniformValue;
  private final Object[] outcomes; // R or Failure, aligned with the payloads; UNIFORM for one value

  private GroupResult(Object uniformValue, Object[] outcomes) {
    this.uniformValue = uniformValue;
    this.outcomes = outcomes;
  }

  /**
   * Every payload of the group gets {@code value} (may be {@code null}, for example for {@code
   * Void}).
   */
  public static <R> GroupResult<R> uniform(R value) {
    return new GroupResult<>(value, UNIFORM);
  }

  /** Payload {@code i} gets {@code values.get(i)}; the list's size must equal the group's. */
  public static <R> GroupResult<R> perPayload(List<? extends R> values) {
    Objects.requireNonNull(values, "values");
    return new GroupResult<>(null, values.toArray());
  }

  /** A builder for a group of {@code size} payloads, some of which may fail on their own. */
  public static <R> Builder<R> builder(int size) {
    return new Builder<>(size);
  }

  /** The number of payloads this result covers, or -1 for a uniform result (any group size). */
  public int size() {
    return outcomes == UNIFORM ? -1 : outcomes.length;
  }

  boolean isUniform() {
    return outcomes == UNIFORM;
  }

  Object uniformValue() {
    return uniformValue;
  }

  /** The outcome of payload {@code i}: an {@code R} or a {@link Failure}. */
  Object outcome(int i) {
    return outcomes == UNIFORM ? uniformValue : outcomes[i];
  }

  @Override
  public String toString() {
    return outcomes == UNIFORM
        ? "GroupResult{uniform=" + uniformValue + '}'
        : "GroupResult" + Arrays.toString(outcomes);
  }

  /** Wraps the failure of one payload, so that an {@code R} that is a Throwable stays a value. */
  static final class Failure {
    final Throwable cause;

    Failure(Throwable cause) {
      this.cause = cause;
    }

    @Override
    public String toString() {
      return "Failure{" + cause + '}';
    }
  }

  /**
   * Builds a per-payload result. Every index must be set exactly once before {@link #build()}. Not
   * thread-safe.
   */
  public static final class Builder<R> {
    private final Object[] outcomes;
    private final boolean[] set;

    private Builder(int size) {
      if (size < 0) {
        throw new IllegalArgumentException("size must not be negative, was " + size);
      }
      outcomes = new Object[size];
      set = new boolean[size];
    }

    /** Payload {@code index} succeeded with {@code value}. */
    public Builder<R> succeed(int index, R value) {
      mark(index);
      outcomes[index] = value;
      return this;
    }

    /** Payload {@code index} failed with {@code cause}; its caller's future fails with it. */
    public Builder<R> fail(int index, Throwable cause) {
      Objects.requireNonNull(cause, "cause");
      mark(index);
      outcomes[index] = new Failure(cause);
      return this;
    }

    private void mark(int index) {
      Objects.checkIndex(index, outcomes.length);
      if (set[index]) {
        throw new IllegalStateException("outcome of payload " + index + " is already set");
      }
      set[index] = true;
    }

    /**
     * @throws IllegalStateException if some payload has no outcome
     */
    public GroupResult<R> build() {
      for (int i = 0; i < set.length; i++) {
        if (!set[i]) {
          throw new IllegalStateException("outcome of payload " + i + " was never set");
        }
      }
      return new GroupResult<>(null, outcomes.clone());
    }
  }
}
