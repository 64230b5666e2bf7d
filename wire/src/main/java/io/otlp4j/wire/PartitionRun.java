package io.otlp4j.wire;

import static io.otlp4j.wire.WireReader.pos;
import static io.otlp4j.wire.WireReader.readLength;
import static io.otlp4j.wire.WireReader.readTag;
import static io.otlp4j.wire.WireReader.skipValue;
import static io.otlp4j.wire.WireReader.value;

import io.netty.buffer.ByteBuf;
import io.otlp4j.wire.ElementView.Kind;
import java.util.Arrays;

/**
 * One {@link RequestPartitioner#partition}: a {@link RequestWalk} of the request down to its units
 * that writes N {@link EditOutput}s at once. Each {@code Resource*} / {@code Scope*} opens a hole
 * in every output; at its end each output either drops it (it got none of its units), takes it back
 * as one slice of the input (it got all of them, or there were none), or gives it a new length
 * prefix.
 *
 * <h2>Buffer ownership</h2>
 *
 * Each started output holds a heap buffer of new bytes, released in {@code finally} whatever
 * happens; {@link #run} returns outputs the caller owns, or releases those it made before an
 * exception. The input is only read. Not thread-safe: one partition at a time; reused by one
 * thread.
 */
final class PartitionRun extends RequestWalk {
  /** The levels below {@link #SCOPE}, for {@link #items}: an item, a metric's data container. */
  private static final int ITEM = 3;

  private static final int DATA = 4;

  private int n;
  private EditOutput[] outputs = new EditOutput[0];
  private RequestPartitioner.Assigner assigner;
  private boolean unitIsResource;
  private boolean metrics;

  // Per output: the holes of the open Resource* and Scope*, the units each got of them, and in all.
  private int[] resourceHoles = new int[0];
  private int[] scopeHoles = new int[0];
  private int[] resourceUnits = new int[0];
  private int[] scopeUnits = new int[0];
  private int[] units = new int[0];
  private long[] items = new long[0];

  /** The units the request, the open Resource* and the open Scope* hold (by level). */
  private final int[] total = new int[3];

  RequestPartitioner.Parts run(
      Signal signal, ByteBuf input, Kind unit, int n, RequestPartitioner.Assigner assigner) {
    int started = 0;
    try {
      begin(signal, input);
      prepare(n);
      this.assigner = assigner;
      unitIsResource = unit == Kind.RESOURCE;
      metrics = signal == Signal.METRICS;
      intoResources = true;
      intoScopes = true;
      intoItems = true;
      for (; started < n; started++) {
        outputs[started].start(input, b, base);
      }
      total[REQUEST] = 0;
      walk();
      return finish(total[REQUEST]);
    } finally {
      for (int i = 0; i < started; i++) {
        outputs[i].release();
      }
      // Keep nothing of this request (nor the assigner) past the partition.
      this.assigner = null;
      end();
    }
  }

  private void prepare(int n) {
    this.n = n;
    if (outputs.length < n) {
      int old = outputs.length;
      outputs = Arrays.copyOf(outputs, n);
      for (int i = old; i < n; i++) {
        outputs[i] = new EditOutput();
      }
      resourceHoles = new int[n];
      scopeHoles = new int[n];
      resourceUnits = new int[n];
      scopeUnits = new int[n];
      units = new int[n];
      items = new long[n];
    }
    Arrays.fill(units, 0);
    Arrays.fill(items, 0);
  }

  /** The outputs that got units; an output that got all of them is the input as one slice. */
  private RequestPartitioner.Parts finish(int total) {
    ByteBuf[] parts = new ByteBuf[n];
    try {
      for (int i = 0; i < n; i++) {
        if (units[i] > 0) {
          parts[i] = outputs[i].finish(units[i] != total);
        }
      }
    } catch (RuntimeException | Error e) {
      for (ByteBuf part : parts) {
        if (part != null) {
          part.release();
        }
      }
      throw e;
    }
    return new RequestPartitioner.Parts(parts, Arrays.copyOf(items, n), Arrays.copyOf(units, n));
  }

  /** Bytes {@code [start, end)} of the input into every output. */
  @Override
  void pass(int start, int end) {
    for (int i = 0; i < n; i++) {
      outputs[i].inputPiece(start, end);
    }
  }

  /** A resource unit goes whole to its output; any other group opens a hole in every output. */
  @Override
  int open(int level, ElementView view, int tagPos, int start, int end) {
    if (level == RESOURCE && unitIsResource) {
      int o = owner(view);
      outputs[o].inputPiece(tagPos, end);
      units[o]++;
      items[o] += items(RESOURCE, start, end);
      total[REQUEST]++;
      return SKIP;
    }
    int[] holes = level == RESOURCE ? resourceHoles : scopeHoles;
    int[] unitsIn = level == RESOURCE ? resourceUnits : scopeUnits;
    for (int i = 0; i < n; i++) {
      holes[i] = outputs[i].open();
      unitsIn[i] = 0;
    }
    total[level] = 0;
    return WALK;
  }

  @Override
  void header(int level, ElementView view, int start, int end) {
    throw new AssertionError("a partition rewrites no resource or scope");
  }

  /** An item unit: to its output, as it arrived. */
  @Override
  void item(int tagPos, int start, int end) {
    int o = owner(item);
    outputs[o].inputPiece(tagPos, end);
    scopeUnits[o]++;
    units[o]++;
    items[o] += items(ITEM, start, end);
    total[SCOPE]++;
  }

  /**
   * Ends a group in every output: as it arrived where it held no unit or the output got all of
   * them, left out where the output got none, with a new prefix where it got some.
   */
  @Override
  void close(int level, int tagPos, int end) {
    boolean resourceLevel = level == RESOURCE;
    int[] holes = resourceLevel ? resourceHoles : scopeHoles;
    int[] unitsIn = resourceLevel ? resourceUnits : scopeUnits;
    int tag = resourceLevel ? TAG_1 : TAG_2;
    int in = total[level];
    for (int i = 0; i < n; i++) {
      if (in > 0 && unitsIn[i] == 0) {
        outputs[i].rollback(holes[i]);
      } else {
        outputs[i].close(holes[i], tag, tagPos, end, unitsIn[i] != in);
      }
    }
    if (!resourceLevel) {
      for (int i = 0; i < n; i++) {
        resourceUnits[i] += scopeUnits[i];
      }
    }
    total[level - 1] += in;
  }

  private int owner(ElementView unit) {
    int o = assigner.output(unit);
    if (o < 0 || o >= n) {
      throw new IllegalStateException(
          "the assigner named output " + o + " of " + n + " for a " + unit.kind());
    }
    return o;
  }

  /**
   * The items (spans, data points, log records) in the message {@code [start, end)} at {@code
   * level}: a {@code Resource*}, a {@code Scope*}, an item, or a metric's data container ({@code
   * DATA}). A metric's points are those protobuf sees: of the {@code data} oneof member that
   * arrived last, from its {@link #activeDataStart} on (repeated occurrences of one member merge),
   * as {@link EditRun} visits them.
   */
  private long items(int level, int start, int end) {
    if (level == ITEM && !metrics) {
      return 1;
    }
    long count = 0;
    int p = level == ITEM ? activeDataStart(start, end) : start;
    while (p < end) {
      int fieldStart = p;
      long r = readTag(b, p, end, base);
      p = pos(r);
      int tag = value(r);
      p = skipValue(b, tag & 7, fieldStart, p, end, base);
      if (level == DATA) {
        count += tag == TAG_1 ? 1 : 0;
      } else if (level == ITEM
          ? (tag & 7) == 2 && OtlpSchema.isMetricData(tag >>> 3)
          : tag == TAG_2) {
        count += items(level + 1, pos(readLength(b, pos(r), end, base)), p);
      }
    }
    return count;
  }
}
