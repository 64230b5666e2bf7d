package io.otlp4j.wire;

import static io.otlp4j.wire.WireReader.pos;
import static io.otlp4j.wire.WireReader.readLength;
import static io.otlp4j.wire.WireReader.readTag;
import static io.otlp4j.wire.WireReader.skipValue;
import static io.otlp4j.wire.WireReader.value;

import io.netty.buffer.ByteBuf;
import io.otlp4j.wire.ElementView.Kind;
import java.nio.ByteBuffer;

/**
 * The walk that {@link RequestEditor} ({@link EditRun}) and {@link RequestPartitioner} ({@link
 * PartitionRun}) share: down an encoded export request's {@code Resource*}s and {@code Scope*}s to
 * its items (spans, metrics, log records), handing each event to the subclass, which writes its
 * output(s) and keeps its own counts. The walk itself allocates nothing and writes nothing.
 *
 * <h2>The events</h2>
 *
 * <ul>
 *   <li>{@link #open}: a {@code Resource*} ({@link #RESOURCE}) or {@code Scope*} ({@link #SCOPE})
 *       begins; its view is already on it. The subclass answers {@link #SKIP} (it took the whole
 *       group itself: dropped it, or passed it on as one unit), {@link #WALK} (walk its fields), or
 *       {@link #REWRITE} (walk them, and hand each occurrence of its resource / scope, field 1, to
 *       {@link #header});
 *   <li>{@link #item}: an item, its view already on it (one segment, the item's content);
 *   <li>{@link #pass}: any other field, at any level: the request's own fields other than its
 *       {@code Resource*}s, the groups' other fields, and the groups and items the walk does not go
 *       into ({@link #intoResources}, {@link #intoScopes}, {@link #intoItems} say where it goes);
 *   <li>{@link #close}: a group that {@link #open} did not skip ends.
 * </ul>
 *
 * Events come in encoding order. Nesting is fixed by the OTLP schema (request, {@code Resource*},
 * {@code Scope*}, item): {@link #group} calls itself once, for the scopes of a resource.
 *
 * <h2>Cost</h2>
 *
 * Each event is one call of an abstract method, from call sites that see at most the two subclasses
 * (a benchmark, one), so HotSpot inlines or binds them; the per-item work stays in the subclass.
 * Against the walks each class had of its own (CPU time per operation of the benchmark methods, the
 * two builds interleaved, two JVMs each, on a loaded machine), {@code ProcessorBenchmark}'s filter,
 * attributes and probabilistic_sampler and {@code PartitionBenchmark}'s onePass and nPlusOnePasses
 * did not move beyond the spread between JVMs.
 *
 * <h2>Buffer ownership</h2>
 *
 * The walk only reads the input, through {@link #b}, from {@link #begin} to {@link #end}; it keeps
 * no reference to it afterwards. Not thread-safe: one walk at a time, reused by one thread.
 */
abstract class RequestWalk {
  /** A request's {@code Resource*}, a {@code Resource*}'s resource, a data container's point. */
  static final int TAG_1 = (1 << 3) | 2;

  /** A {@code Resource*}'s {@code Scope*}, a {@code Scope*}'s item. */
  static final int TAG_2 = (2 << 3) | 2;

  /** The levels of {@link #open} and {@link #close}; {@link #REQUEST} is the one above. */
  static final int REQUEST = 0;

  static final int RESOURCE = 1;
  static final int SCOPE = 2;

  /** {@link #open}'s answers: the group is done with; walk it; walk it and rewrite its header. */
  static final int SKIP = 0;

  static final int WALK = 1;
  static final int REWRITE = 2;

  /** The input as it is read ({@code WireReader.view}); positions are its indexes. */
  ByteBuffer b;

  /** The index of the input's first byte. */
  int base;

  final ElementView resource = new ElementView(null);
  final ElementView scope = new ElementView(resource);
  final ElementView item = new ElementView(scope);

  /** The input's bytes for the views' unchecked reads ({@link ElementView#memory}), or null. */
  ByteAccess.Input memory;

  /** The signal's item: kind, schema type and attribute field. */
  Kind itemKind;

  int itemType;
  int itemAttributes;

  /** Where the walk goes: into {@code Resource*}s, their {@code Scope*}s, their items. */
  boolean intoResources;

  boolean intoScopes;
  boolean intoItems;

  /** Whether a walk on this thread is using this object (a callback that walks inside a walk). */
  boolean busy;

  /**
   * Starts a walk of {@code input} (only read): the views are on its bytes until {@link #end},
   * which must follow in a {@code finally}.
   */
  final void begin(Signal signal, ByteBuf input) {
    busy = true;
    b = WireReader.view(input);
    base = b.position();
    memory = ByteAccess.atIndexZero(b);
    resource.memory(b, memory);
    scope.memory(b, memory);
    item.memory(b, memory);
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
  }

  /** Ends a walk: keeps nothing of the request. */
  void end() {
    b = null;
    memory = null;
    item.memory(null, null);
    scope.memory(null, null);
    resource.memory(null, null);
    item.reset(null, 0, Kind.RESOURCE, 0, 0);
    scope.reset(null, 0, Kind.RESOURCE, 0, 0);
    resource.reset(null, 0, Kind.RESOURCE, 0, 0);
    busy = false;
  }

  /** Walks the request's fields; see the class comment for the events. */
  final void walk() {
    int end = b.limit();
    int p = base;
    while (p < end) {
      int tagPos = p;
      long r = readTag(b, p, end, base);
      p = pos(r);
      int tag = value(r);
      p = skipValue(b, tag & 7, tagPos, p, end, base);
      if (tag == TAG_1 && intoResources) {
        group(RESOURCE, tagPos, pos(readLength(b, pos(r), end, base)), p);
      } else {
        pass(tagPos, p);
      }
    }
  }

  /**
   * A {@code Resource*} or {@code Scope*} at {@code tagPos} whose content is {@code [start, end)}.
   */
  private void group(int level, int tagPos, int start, int end) {
    ElementView view;
    if (level == RESOURCE) {
      view = resource;
      view.reset(b, base, Kind.RESOURCE, OtlpSchema.T_RESOURCE, 1);
    } else {
      view = scope;
      view.reset(b, base, Kind.SCOPE, OtlpSchema.T_SCOPE, 3);
    }
    view.entry(start, end);
    int mode = open(level, view, tagPos, start, end);
    if (mode == SKIP) {
      return;
    }
    boolean rewrite = mode == REWRITE;
    boolean children = level == RESOURCE ? intoScopes : intoItems;
    int p = start;
    while (p < end) {
      int fieldStart = p;
      long r = readTag(b, p, end, base);
      p = pos(r);
      int tag = value(r);
      p = skipValue(b, tag & 7, fieldStart, p, end, base);
      if (tag == TAG_1 && rewrite) {
        header(level, view, pos(readLength(b, pos(r), end, base)), p);
      } else if (tag == TAG_2 && children) {
        int contentStart = pos(readLength(b, pos(r), end, base));
        if (level == RESOURCE) {
          group(SCOPE, fieldStart, contentStart, p);
        } else {
          item.reset(b, base, itemKind, itemType, itemAttributes);
          item.addSegment(contentStart, p);
          item(fieldStart, contentStart, p);
        }
      } else {
        pass(fieldStart, p);
      }
    }
    close(level, tagPos, end);
  }

  /**
   * A {@code Resource*} ({@link #RESOURCE}) or {@code Scope*} ({@link #SCOPE}) at {@code tagPos},
   * content {@code [start, end)}, begins; {@code view} is on it. Returns {@link #SKIP}, {@link
   * #WALK} or {@link #REWRITE}.
   */
  abstract int open(int level, ElementView view, int tagPos, int start, int end);

  /** An occurrence, content {@code [start, end)}, of the resource or scope of a rewritten group. */
  abstract void header(int level, ElementView view, int start, int end);

  /** An item at {@code tagPos}, content {@code [start, end)}; {@link #item} is on it. */
  abstract void item(int tagPos, int start, int end);

  /** Input bytes {@code [start, end)}, a whole field the walk does not go into. */
  abstract void pass(int start, int end);

  /** The group that {@link #open} at {@code level} let the walk into, at {@code tagPos}, ends. */
  abstract void close(int level, int tagPos, int end);

  /**
   * Where the metric {@code [start, end)}'s {@code data} oneof member that protobuf keeps starts to
   * count: the first occurrence of the last member after every occurrence of another member. An
   * earlier member is replaced when protobuf parses the metric, so its points are not counted nor
   * visited (they would be points that do not exist) and its bytes are passed on as they are
   * (protobuf drops them again).
   */
  final int activeDataStart(int start, int end) {
    int active = start;
    int member = 0;
    int p = start;
    while (p < end) {
      int fieldStart = p;
      long r = readTag(b, p, end, base);
      p = pos(r);
      int tag = value(r);
      p = skipValue(b, tag & 7, fieldStart, p, end, base);
      int number = tag >>> 3;
      if ((tag & 7) == 2 && OtlpSchema.isMetricData(number) && number != member) {
        member = number;
        active = fieldStart;
      }
    }
    return active;
  }
}
