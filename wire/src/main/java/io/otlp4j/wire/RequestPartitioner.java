package io.otlp4j.wire;

import io.netty.buffer.ByteBuf;
import io.otlp4j.wire.ElementView.Kind;

/**
 * Splits an encoded OTLP export request N ways in one walk: each <em>unit</em> (a {@code
 * Resource*}, or a span, metric or log record) goes to the output an {@link Assigner} names, and
 * the N outputs are written at once, each a valid request of the same signal. What a load balancer
 * routing by trace id, service, resource or metric name needs, without the N + 1 passes of one
 * classifying pass and one {@link RequestEditor} edit per output.
 *
 * <h2>What comes out</h2>
 *
 * Output {@code i} is what a {@link RequestEditor} edit that keeps the units assigned to {@code i}
 * and drops the others gives (a test checks it against the same partition made with the official
 * protobuf builders):
 *
 * <ul>
 *   <li>every unit is in exactly one output, with everything it holds, as it arrived (one slice of
 *       the input; adjacent units of one output are one slice);
 *   <li>a {@code Resource*} / {@code Scope*} that holds units is repeated, with its resource or
 *       scope and every other field it has, in each output that gets some of them, and left out of
 *       the others; in an output that gets only some of its units its length prefix is new (a small
 *       one is copied whole, as the editor does), else it is one slice;
 *   <li>a {@code Resource*} / {@code Scope*} that arrived holding no unit, and the request's own
 *       fields other than its {@code Resource*}s (unknown ones), are in every output that gets a
 *       unit;
 *   <li>an output that gets no unit is {@code null}; an output that gets every unit is the input
 *       itself, as one retained slice.
 * </ul>
 *
 * A request with no unit at all (no {@code Resource*}, or only empty ones for item units) gives N
 * {@code null} outputs: where it goes is the caller's choice.
 *
 * <h2>Cost</h2>
 *
 * One pass over the request down to the units, and into a unit only where the assigner reads its
 * fields (or, for metrics, to count data points: the metric's top-level fields and its data
 * container's). Per request: N output composites, one small heap buffer of new bytes per output
 * (from {@code request.alloc()}) and the {@link Parts}; the views, piece lists and counters are the
 * calling thread's, reused ({@code PartitionBenchmark} measures it against the N + 1-pass way).
 *
 * <h2>Buffer ownership</h2>
 *
 * {@link #partition} only reads the input and does not take ownership: its indexes are unchanged
 * and the caller keeps (and releases) it. Every non-null {@link Parts#request} is owned by the
 * caller and must be released; it holds retained slices of the input (and of a heap buffer of new
 * prefixes). On an exception (malformed input, an assigner that throws or names no output) nothing
 * is left allocated and the input's reference count is as it was. A composite input of several
 * components is read through one temporary copy ({@link OtlpWalker#walk} does the same); the
 * outputs still slice the input itself.
 *
 * <p>Immutable and thread-safe; build once, partition any number of requests from any threads.
 */
public final class RequestPartitioner {
  private static final RequestPartitioner DEFAULT = builder().build();

  /** Each thread's views, output piece lists and counters, reused (see the class comment). */
  private static final ThreadLocal<PartitionRun> RUNS = ThreadLocal.withInitial(PartitionRun::new);

  private final OtlpWalker walker;
  private final boolean validate;

  /**
   * Names the output of each unit. Called from the thread that called {@link #partition}, once per
   * unit in the order units are encoded; the view is valid only during the call ({@link
   * ElementView#parent()} reaches the enclosing scope and resource). An exception ends the
   * partition: it propagates to the caller and nothing stays allocated.
   */
  @FunctionalInterface
  public interface Assigner {
    /** The output of {@code unit}: from 0 to the partition's {@code outputs - 1}. */
    int output(ElementView unit);
  }

  /**
   * The N outputs of one partition, with what each holds.
   *
   * <p><b>Buffer ownership:</b> each non-null {@link #request} is the caller's to release (once).
   */
  public static final class Parts {
    private final ByteBuf[] requests;
    private final long[] items;
    private final int[] units;

    Parts(ByteBuf[] requests, long[] items, int[] units) {
      this.requests = requests;
      this.items = items;
      this.units = units;
    }

    /** N, as asked for. */
    public int outputs() {
      return requests.length;
    }

    /** Output {@code output}'s request, owned by the caller; {@code null} when it got no unit. */
    public ByteBuf request(int output) {
      return requests[output];
    }

    /** The items (spans, data points, log records) output {@code output} holds in its units. */
    public long items(int output) {
      return items[output];
    }

    /** How many units went to output {@code output}. */
    public int units(int output) {
      return units[output];
    }

    /** How many outputs got a unit. */
    public int nonEmpty() {
      int count = 0;
      for (ByteBuf r : requests) {
        count += r == null ? 0 : 1;
      }
      return count;
    }

    /** Releases every output not released yet (for a caller that gives up on them). */
    public void releaseAll() {
      for (int i = 0; i < requests.length; i++) {
        if (requests[i] != null) {
          requests[i].release();
          requests[i] = null;
        }
      }
    }
  }

  private RequestPartitioner(Builder builder) {
    this.walker = builder.walker;
    this.validate = builder.validate;
  }

  /** The partitioner with default settings: it validates each request first. */
  public static RequestPartitioner create() {
    return DEFAULT;
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Splits {@code request} into {@code outputs} requests, each unit of kind {@code unit} where
   * {@code assigner} says; see the class comment for what comes out and who owns what.
   *
   * @param unit {@link Kind#RESOURCE}, or the signal's item: {@link Kind#SPAN}, {@link Kind#METRIC}
   *     or {@link Kind#LOG_RECORD}
   * @param request only read; the caller keeps it
   * @return the outputs, owned by the caller
   * @throws WireFormatException when the request is not valid (when validating: before the assigner
   *     sees anything); nothing is allocated then
   * @throws IllegalStateException when the assigner names an output out of range
   */
  public Parts partition(
      Signal signal, ByteBuf request, Kind unit, int outputs, Assigner assigner) {
    if (signal == null || request == null || unit == null || assigner == null) {
      throw new IllegalArgumentException("signal, request, unit and assigner must not be null");
    }
    if (outputs < 1) {
      throw new IllegalArgumentException("outputs must be at least 1: " + outputs);
    }
    if (unit != Kind.RESOURCE && unit != itemKind(signal)) {
      throw new IllegalArgumentException(
          "unit must be RESOURCE or " + itemKind(signal) + " for " + signal + ": " + unit);
    }
    if (validate) {
      walker.walk(signal, request);
    }
    PartitionRun run = RUNS.get();
    if (run.busy) {
      run = new PartitionRun(); // an assigner that partitions another request inside a partition
    }
    return run.run(signal, request, unit, outputs, assigner);
  }

  static Kind itemKind(Signal signal) {
    return switch (signal) {
      case TRACES -> Kind.SPAN;
      case METRICS -> Kind.METRIC;
      default -> Kind.LOG_RECORD;
    };
  }

  /** Configures a {@link RequestPartitioner}. Not thread-safe; the partitioner it builds is. */
  public static final class Builder {
    private OtlpWalker walker = OtlpWalker.create();
    private boolean validate = true;

    private Builder() {}

    /**
     * Whether {@link #partition} walks (validates) each request first (default true). Turn it off
     * only for requests this process has already walked: the partitioner reads what it passes
     * through within bounds and throws {@link WireFormatException} where that is broken, but does
     * not look inside what the assigner does not read.
     */
    public Builder validation(boolean validate) {
      this.validate = validate;
      return this;
    }

    /** The walker that validates each request first (default {@link OtlpWalker#create()}). */
    public Builder walker(OtlpWalker walker) {
      if (walker == null) {
        throw new IllegalArgumentException("walker must not be null");
      }
      this.walker = walker;
      return this;
    }

    public RequestPartitioner build() {
      return new RequestPartitioner(this);
    }
  }

  @Override
  public String toString() {
    return "RequestPartitioner[validation=" + validate + "]";
  }
}
