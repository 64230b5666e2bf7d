package io.otlp4j.wire;

import static io.otlp4j.wire.WireReader.pos;
import static io.otlp4j.wire.WireReader.readLength;
import static io.otlp4j.wire.WireReader.readTag;
import static io.otlp4j.wire.WireReader.skipValue;
import static io.otlp4j.wire.WireReader.value;

import io.netty.buffer.ByteBuf;
import io.otlp4j.wire.ElementView.Kind;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * One {@link RequestPartitioner#partition}: a walk of the request down to its units that writes N
 * {@link EditOutput}s at once. Each {@code Resource*} / {@code Scope*} opens a hole in every
 * output; at its end each output either drops it (it got none of its units), takes it back as one
 * slice of the input (it got all of them, or there were none), or gives it a new length prefix.
 *
 * <h2>Buffer ownership</h2>
 *
 * Each started output holds a heap buffer of new bytes, released in {@code finally} whatever
 * happens; {@link #run} returns outputs the caller owns, or releases those it made before an
 * exception. The input is only read. Not thread-safe: one partition at a time; reused by one
 * thread.
 */
final class PartitionRun {
  private static final int TAG_1 = (1 << 3) | 2;
  private static final int TAG_2 = (2 << 3) | 2;

  private ByteBuffer b;
  private int base;
  private int n;
  private EditOutput[] outputs = new EditOutput[0];
  private RequestPartitioner.Assigner assigner;
  private boolean unitIsResource;
  private boolean metrics;
  private Kind itemKind;
  private int itemType;
  private int itemAttributes;
  private final ElementView resource = new ElementView(null);
  private final ElementView scope = new ElementView(resource);
  private final ElementView item = new ElementView(scope);

  // Per output: the holes of the open Resource* and Scope*, the units each got of them, and in all.
  private int[] resourceHoles = new int[0];
  private int[] scopeHoles = new int[0];
  private int[] resourceUnits = new int[0];
  private int[] scopeUnits = new int[0];
  private int[] units = new int[0];
  private long[] items = new long[0];

  /** Whether a partition on this thread is using this run. */
  boolean busy;

  RequestPartitioner.Parts run(
      Signal signal, ByteBuf input, Kind unit, int n, RequestPartitioner.Assigner assigner) {
    busy = true;
    int started = 0;
    try {
      prepare(n);
      this.assigner = assigner;
      this.b = WireReader.view(input);
      this.base = b.position();
      ByteAccess.Input memory = ByteAccess.atIndexZero(b);
      resource.memory(b, memory);
      scope.memory(b, memory);
      item.memory(b, memory);
      unitIsResource = unit == Kind.RESOURCE;
      metrics = signal == Signal.METRICS;
      itemKind = RequestPartitioner.itemKind(signal);
      switch (signal) {
        case TRACES -> {
          itemType = OtlpSchema.SPAN;
          itemAttributes = 9;
        }
        case METRICS -> {
          itemType = OtlpSchema.METRIC;
          itemAttributes = 12;
        }
        default -> {
          itemType = OtlpSchema.LOG_RECORD;
          itemAttributes = 6;
        }
      }
      for (; started < n; started++) {
        outputs[started].start(input, b, base);
      }
      int total = request();
      return finish(total);
    } finally {
      for (int i = 0; i < started; i++) {
        outputs[i].release();
      }
      // Keep nothing of this request (nor the assigner) past the partition.
      b = null;
      this.assigner = null;
      item.memory(null, null);
      scope.memory(null, null);
      resource.memory(null, null);
      item.reset(null, 0, Kind.RESOURCE, 0, 0);
      scope.reset(null, 0, Kind.RESOURCE, 0, 0);
      resource.reset(null, 0, Kind.RESOURCE, 0, 0);
      busy = false;
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
  private void everywhere(int start, int end) {
    for (int i = 0; i < n; i++) {
      outputs[i].inputPiece(start, end);
    }
  }

  /** The request's fields; returns how many units it holds. */
  private int request() {
    int total = 0;
    int end = b.limit();
    int p = base;
    while (p < end) {
      int tagPos = p;
      long r = readTag(b, p, end, base);
      p = pos(r);
      int tag = value(r);
      p = skipValue(b, tag & 7, tagPos, p, end, base);
      if (tag == TAG_1) {
        total += resourceEntry(tagPos, pos(readLength(b, pos(r), end, base)), p);
      } else {
        everywhere(tagPos, p);
      }
    }
    return total;
  }

  /** A {@code Resource*} whose content is {@code [start, end)}; returns how many units it holds. */
  private int resourceEntry(int tagPos, int start, int end) {
    resource.reset(b, base, Kind.RESOURCE, OtlpSchema.T_RESOURCE, 1);
    resource.entry(start, end);
    if (unitIsResource) {
      int o = owner(resource);
      outputs[o].inputPiece(tagPos, end);
      units[o]++;
      items[o] += resourceItems(start, end);
      return 1;
    }
    for (int i = 0; i < n; i++) {
      resourceHoles[i] = outputs[i].open();
      resourceUnits[i] = 0;
    }
    int total = 0;
    int p = start;
    while (p < end) {
      int fieldStart = p;
      long r = readTag(b, p, end, base);
      p = pos(r);
      int tag = value(r);
      p = skipValue(b, tag & 7, fieldStart, p, end, base);
      if (tag == TAG_2) {
        total += scopeEntry(fieldStart, pos(readLength(b, pos(r), end, base)), p);
      } else {
        everywhere(fieldStart, p);
      }
    }
    close(resourceHoles, resourceUnits, total, TAG_1, tagPos, end);
    return total;
  }

  /** A {@code Scope*} whose content is {@code [start, end)}; returns how many units it holds. */
  private int scopeEntry(int tagPos, int start, int end) {
    scope.reset(b, base, Kind.SCOPE, OtlpSchema.T_SCOPE, 3);
    scope.entry(start, end);
    for (int i = 0; i < n; i++) {
      scopeHoles[i] = outputs[i].open();
      scopeUnits[i] = 0;
    }
    int total = 0;
    int p = start;
    while (p < end) {
      int fieldStart = p;
      long r = readTag(b, p, end, base);
      p = pos(r);
      int tag = value(r);
      p = skipValue(b, tag & 7, fieldStart, p, end, base);
      if (tag == TAG_2) {
        int contentStart = pos(readLength(b, pos(r), end, base));
        item.reset(b, base, itemKind, itemType, itemAttributes);
        item.addSegment(contentStart, p);
        int o = owner(item);
        outputs[o].inputPiece(fieldStart, p);
        scopeUnits[o]++;
        units[o]++;
        items[o] += metrics ? points(contentStart, p) : 1;
        total++;
      } else {
        everywhere(fieldStart, p);
      }
    }
    close(scopeHoles, scopeUnits, total, TAG_2, tagPos, end);
    for (int i = 0; i < n; i++) {
      resourceUnits[i] += scopeUnits[i];
    }
    return total;
  }

  /**
   * Ends a container in every output: as it arrived where it held no unit or the output got all of
   * them, left out where the output got none, with a new prefix where it got some.
   */
  private void close(int[] holes, int[] unitsIn, int total, int tag, int tagPos, int end) {
    for (int i = 0; i < n; i++) {
      if (total > 0 && unitsIn[i] == 0) {
        outputs[i].rollback(holes[i]);
      } else {
        outputs[i].close(holes[i], tag, tagPos, end, unitsIn[i] != total);
      }
    }
  }

  private int owner(ElementView unit) {
    int o = assigner.output(unit);
    if (o < 0 || o >= n) {
      throw new IllegalStateException(
          "the assigner named output " + o + " of " + n + " for a " + unit.kind());
    }
    return o;
  }

  /** The items in the {@code Resource*} {@code [start, end)}: spans, data points, log records. */
  private long resourceItems(int start, int end) {
    long count = 0;
    int p = start;
    while (p < end) {
      int fieldStart = p;
      long r = readTag(b, p, end, base);
      p = pos(r);
      int tag = value(r);
      p = skipValue(b, tag & 7, fieldStart, p, end, base);
      if (tag != TAG_2) {
        continue;
      }
      int q = pos(readLength(b, pos(r), end, base));
      int scopeEnd = p;
      while (q < scopeEnd) {
        int itemStart = q;
        long s = readTag(b, q, scopeEnd, base);
        q = pos(s);
        int t = value(s);
        q = skipValue(b, t & 7, itemStart, q, scopeEnd, base);
        if (t == TAG_2) {
          count += metrics ? points(pos(readLength(b, pos(s), scopeEnd, base)), q) : 1;
        }
      }
    }
    return count;
  }

  /**
   * The data points of the metric {@code [start, end)} as protobuf sees them: those of the {@code
   * data} oneof member that arrived last, from its first occurrence after every occurrence of
   * another member (an earlier member is replaced when protobuf parses the metric; repeated
   * occurrences of one member merge), as {@link RequestEditor} counts them.
   */
  private long points(int start, int end) {
    long count = 0;
    int member = 0;
    int p = start;
    while (p < end) {
      int fieldStart = p;
      long r = readTag(b, p, end, base);
      p = pos(r);
      int tag = value(r);
      p = skipValue(b, tag & 7, fieldStart, p, end, base);
      int number = tag >>> 3;
      if ((tag & 7) != 2 || !OtlpSchema.isMetricData(number)) {
        continue;
      }
      if (number != member) {
        member = number;
        count = 0;
      }
      int q = pos(readLength(b, pos(r), end, base));
      int dataEnd = p;
      while (q < dataEnd) {
        int pointStart = q;
        long s = readTag(b, q, dataEnd, base);
        q = pos(s);
        int t = value(s);
        q = skipValue(b, t & 7, pointStart, q, dataEnd, base);
        count += t == TAG_1 ? 1 : 0;
      }
    }
    return count;
  }
}
