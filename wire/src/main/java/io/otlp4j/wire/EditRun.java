package io.otlp4j.wire;

import static io.otlp4j.wire.WireReader.pos;
import static io.otlp4j.wire.WireReader.readLength;
import static io.otlp4j.wire.WireReader.readTag;
import static io.otlp4j.wire.WireReader.skipValue;
import static io.otlp4j.wire.WireReader.value;

import io.netty.buffer.ByteBuf;
import io.otlp4j.wire.EditPolicy.Decision;
import io.otlp4j.wire.ElementView.Kind;
import io.otlp4j.wire.ElementView.MetricType;

/**
 * One {@link RequestEditor} edit: a {@link RequestWalk} that asks the policy about each element and
 * writes the output as pieces (source, start, length) into one {@link EditOutput}. Each {@code
 * Resource*}, {@code Scope*}, item and data container opens a hole; at its end it is dropped (it
 * had children and kept none), taken back as one slice of the input (nothing in it changed) or
 * given a new length prefix.
 *
 * <h2>Buffer ownership</h2>
 *
 * The output holds a heap buffer of new bytes, released in {@code finally} whatever happens; {@link
 * #run} returns a buffer the caller owns. The input is only read. Not thread-safe: one edit at a
 * time; reused by one thread.
 */
final class EditRun extends RequestWalk {
  private static final int UNCHANGED = 0;
  private static final int CHANGED = 1;
  private static final int DROPPED = 2;

  private static final int TAG_EVENT = (11 << 3) | 2;
  private static final int TAG_LINK = (13 << 3) | 2;
  private static final int TAG_TRACE_STATE = (3 << 3) | 2;

  private EditPolicy policy;
  private final EditOutput output = new EditOutput();
  private int pointsSeen;
  private int pointsKept;
  private final ElementView sub = new ElementView(item);
  // Which kinds the policy visits, and so how deep the edit must look.
  private boolean visitResource;
  private boolean visitScope;
  private boolean visitItem;
  private boolean visitEvent;
  private boolean visitLink;
  private boolean visitPoint;
  private boolean descendSub;

  // By level (REQUEST, RESOURCE, SCOPE): the open group's hole, the children it saw and kept,
  // whether anything in it changed, the occurrences of its resource / scope rewritten so far.
  private final int[] holes = new int[3];
  private final int[] seen = new int[3];
  private final int[] kept = new int[3];
  private final boolean[] changed = new boolean[3];
  private final int[] occurrences = new int[3];

  /**
   * Whether the last edit saw every item (spans or log records), so that what it kept is counted
   * exactly in {@link #keptResources}, {@link #keptScopes} and {@link #keptItems}.
   */
  boolean counted;

  int keptResources;
  int keptScopes;
  long keptItems;

  /** Edits {@code input}; the views, arrays and piece list are this thread's, reused. */
  ByteBuf run(Signal signal, ByteBuf input, EditPolicy policy, boolean contiguous) {
    try {
      begin(signal, input);
      sub.memory(b, memory);
      this.policy = policy;
      visitResource = policy.visits(Kind.RESOURCE);
      visitScope = policy.visits(Kind.SCOPE);
      visitItem = policy.visits(itemKind);
      visitEvent = signal == Signal.TRACES && policy.visits(Kind.SPAN_EVENT);
      visitLink = signal == Signal.TRACES && policy.visits(Kind.SPAN_LINK);
      visitPoint = signal == Signal.METRICS && policy.visits(Kind.DATA_POINT);
      descendSub = visitEvent || visitLink || visitPoint;
      intoItems = visitItem || descendSub;
      intoScopes = visitScope || intoItems;
      intoResources = visitResource || intoScopes;
      counted = signal != Signal.METRICS && intoItems;
      keptScopes = 0;
      keptItems = 0;
      kept[REQUEST] = 0;
      changed[REQUEST] = false;
      output.start(input, b, base);
      try {
        walk();
        keptResources = kept[REQUEST];
        return contiguous
            ? output.finishContiguous(changed[REQUEST])
            : output.finish(changed[REQUEST]);
      } finally {
        output.release();
      }
    } finally {
      // Keep nothing of this request (nor the policy) past the edit.
      this.policy = null;
      sub.memory(null, null);
      sub.reset(null, 0, Kind.RESOURCE, 0, 0);
      end();
    }
  }

  /** A child of the group at {@code level} is done with, as {@code result} says. */
  private void childDone(int level, int result) {
    seen[level]++;
    kept[level] += result == DROPPED ? 0 : 1;
    changed[level] |= result != UNCHANGED;
  }

  @Override
  void pass(int start, int end) {
    output.inputPiece(start, end);
  }

  @Override
  int open(int level, ElementView view, int tagPos, int start, int end) {
    if (level == RESOURCE ? visitResource : visitScope) {
      Decision decision = level == RESOURCE ? policy.resource(view) : policy.scope(view);
      if (decision == Decision.DROP) {
        childDone(level - 1, DROPPED);
        return SKIP;
      }
    }
    holes[level] = output.open();
    boolean modified = view.attributesModified();
    changed[level] = modified;
    seen[level] = 0;
    kept[level] = 0;
    occurrences[level] = 0;
    if (modified && !view.isPresent()) {
      newMessage(TAG_1, view);
    }
    return modified ? REWRITE : WALK;
  }

  /** The resource or scope again, with the new list in its first occurrence and none in others. */
  @Override
  void header(int level, ElementView view, int start, int end) {
    reencode(TAG_1, start, end, view, occurrences[level]++ == 0);
  }

  @Override
  void item(int tagPos, int start, int end) {
    childDone(SCOPE, editItem(tagPos, start, end));
  }

  /** A group that had children and kept none is dropped; else it closes as it changed. */
  @Override
  void close(int level, int tagPos, int end) {
    int result;
    if (seen[level] > 0 && kept[level] == 0) {
      output.rollback(holes[level]);
      result = DROPPED;
    } else {
      if (level == RESOURCE) {
        keptScopes += kept[level];
      } else {
        keptItems += kept[level];
      }
      int tag = level == RESOURCE ? TAG_1 : TAG_2;
      result = output.close(holes[level], tag, tagPos, end, changed[level]) ? CHANGED : UNCHANGED;
    }
    childDone(level - 1, result);
  }

  /** A span, metric or log record whose content is {@code [start, end)}. */
  private int editItem(int tagPos, int start, int end) {
    if (visitItem) {
      Decision decision =
          switch (itemKind) {
            case SPAN -> policy.span(item);
            case METRIC -> policy.metric(item);
            default -> policy.logRecord(item);
          };
      if (decision == Decision.DROP) {
        return DROPPED;
      }
    }
    boolean modified = item.attributesModified();
    boolean traceState = item.traceStateReplaced();
    if (!modified && !traceState && !descendSub) {
      output.inputPiece(
          tagPos, end); // nothing inside to visit: passed on without reading its fields
      return UNCHANGED;
    }
    int hole = output.open();
    if (modified && !traceState && !descendSub && item.loadedAttributes().arrivedAsOneRun()) {
      // Only the attribute run changes, and the list knows where it was: no second pass over
      // the item's fields.
      AttributeList list = item.loadedAttributes();
      int runStart = list.runStart();
      output.inputPiece(start, runStart < 0 ? end : runStart);
      emitAttributes(item);
      if (runStart >= 0) {
        output.inputPiece(list.runEnd(), end);
      }
      return output.close(hole, TAG_2, tagPos, end, true) ? CHANGED : UNCHANGED;
    }
    boolean changed = modified || traceState;
    boolean attributesDone = false;
    boolean traceStateDone = false;
    int attributeTag = (itemAttributes << 3) | 2;
    int seenPoints = 0;
    int keptPoints = 0;
    int activeData = descendSub && itemKind == Kind.METRIC ? activeDataStart(start, end) : start;
    int p = start;
    while (p < end) {
      int fieldStart = p;
      long r = readTag(b, p, end, base);
      p = pos(r);
      int tag = value(r);
      p = skipValue(b, tag & 7, fieldStart, p, end, base);
      if (tag == attributeTag && modified) {
        if (!attributesDone) {
          emitAttributes(item);
          attributesDone = true;
        }
      } else if (tag == TAG_TRACE_STATE && traceState) {
        if (!traceStateDone) {
          emitTraceState(item);
          traceStateDone = true;
        }
      } else if (descendSub && itemKind == Kind.SPAN && (tag == TAG_EVENT || tag == TAG_LINK)) {
        boolean event = tag == TAG_EVENT;
        changed |=
            leaf(
                    tag,
                    fieldStart,
                    pos(readLength(b, pos(r), end, base)),
                    p,
                    event ? Kind.SPAN_EVENT : Kind.SPAN_LINK,
                    event ? OtlpSchema.EVENT : OtlpSchema.LINK,
                    event ? 3 : 4,
                    MetricType.NONE)
                != UNCHANGED;
      } else if (descendSub
          && itemKind == Kind.METRIC
          && fieldStart >= activeData
          && (tag & 7) == 2
          && OtlpSchema.isMetricData(tag >>> 3)) {
        changed |=
            dataContainer(tag, fieldStart, pos(readLength(b, pos(r), end, base)), p) != UNCHANGED;
        seenPoints += pointsSeen;
        keptPoints += pointsKept;
      } else {
        output.inputPiece(fieldStart, p);
      }
    }
    if (modified && !attributesDone) {
      emitAttributes(item);
    }
    if (traceState && !traceStateDone) {
      emitTraceState(item);
    }
    if (seenPoints > 0 && keptPoints == 0) {
      output.rollback(hole);
      return DROPPED;
    }
    return output.close(hole, TAG_2, tagPos, end, changed) ? CHANGED : UNCHANGED;
  }

  /** A metric's gauge, sum, histogram, exponential histogram or summary; counts its points. */
  private int dataContainer(int tag, int tagPos, int start, int end) {
    MetricType type = ElementView.metricTypeOf(tag >>> 3);
    int pointType;
    int attributeField;
    switch (type) {
      case HISTOGRAM -> {
        pointType = OtlpSchema.HISTOGRAM_DATA_POINT;
        attributeField = 9;
      }
      case EXPONENTIAL_HISTOGRAM -> {
        pointType = OtlpSchema.EXPONENTIAL_HISTOGRAM_DATA_POINT;
        attributeField = 1;
      }
      case SUMMARY -> {
        pointType = OtlpSchema.SUMMARY_DATA_POINT;
        attributeField = 7;
      }
      default -> {
        pointType = OtlpSchema.NUMBER_DATA_POINT;
        attributeField = 7;
      }
    }
    int hole = output.open();
    boolean changed = false;
    int seen = 0;
    int kept = 0;
    int p = start;
    while (p < end) {
      int fieldStart = p;
      long r = readTag(b, p, end, base);
      p = pos(r);
      int t = value(r);
      p = skipValue(b, t & 7, fieldStart, p, end, base);
      if (t == TAG_1) {
        seen++;
        int s =
            leaf(
                TAG_1,
                fieldStart,
                pos(readLength(b, pos(r), end, base)),
                p,
                Kind.DATA_POINT,
                pointType,
                attributeField,
                type);
        kept += s == DROPPED ? 0 : 1;
        changed |= s != UNCHANGED;
      } else {
        output.inputPiece(fieldStart, p);
      }
    }
    pointsSeen = seen;
    pointsKept = kept;
    return output.close(hole, tag, tagPos, end, changed) ? CHANGED : UNCHANGED;
  }

  /** An event, link or data point: an element with nothing inside that the policy visits. */
  private int leaf(
      int tag,
      int tagPos,
      int start,
      int end,
      Kind kind,
      int type,
      int attributeField,
      MetricType metricType) {
    if (kind == Kind.SPAN_EVENT ? !visitEvent : kind == Kind.SPAN_LINK ? !visitLink : !visitPoint) {
      output.inputPiece(tagPos, end);
      return UNCHANGED;
    }
    sub.reset(b, base, kind, type, attributeField);
    sub.addSegment(start, end);
    sub.metricType(metricType);
    Decision decision =
        switch (kind) {
          case SPAN_EVENT -> policy.spanEvent(sub);
          case SPAN_LINK -> policy.spanLink(sub);
          default -> policy.dataPoint(sub);
        };
    if (decision == Decision.DROP) {
      return DROPPED;
    }
    if (!sub.attributesModified()) {
      output.inputPiece(tagPos, end);
      return UNCHANGED;
    }
    reencode(tag, start, end, sub, true);
    return CHANGED;
  }

  /**
   * The message {@code [start, end)} again under {@code tag}, with its attribute fields replaced by
   * the view's edited list ({@code withAttributes}) or removed.
   */
  private void reencode(int tag, int start, int end, ElementView view, boolean withAttributes) {
    int hole = output.open();
    int attributeTag = (view.attributeField << 3) | 2;
    boolean done = !withAttributes;
    int p = start;
    while (p < end) {
      int fieldStart = p;
      long r = readTag(b, p, end, base);
      p = pos(r);
      int t = value(r);
      p = skipValue(b, t & 7, fieldStart, p, end, base);
      if (t == attributeTag) {
        if (!done) {
          emitAttributes(view);
          done = true;
        }
      } else {
        output.inputPiece(fieldStart, p);
      }
    }
    if (!done) {
      emitAttributes(view);
    }
    output.closeChanged(hole, tag);
  }

  /**
   * A new message under {@code tag} holding only the view's edited attributes (if there are any).
   */
  private void newMessage(int tag, ElementView view) {
    if (view.loadedAttributes().size() == 0) {
      return;
    }
    int hole = output.open();
    emitAttributes(view);
    output.closeChanged(hole, tag);
  }

  /** A span's replaced {@code trace_state}; none when it is empty (as protobuf writes it). */
  private void emitTraceState(ElementView span) {
    int length = span.traceStateReplacementLength();
    if (length > 0) {
      output.newField(TAG_TRACE_STATE, span.traceStateReplacement(), 0, length);
    }
  }

  private void emitAttributes(ElementView view) {
    AttributeList list = view.loadedAttributes();
    int tag = (view.attributeField << 3) | 2;
    for (int i = 0; i < list.size(); i++) {
      if (list.fromInput(i)) {
        output.inputPiece(list.fieldStart(i), list.end(i));
      } else {
        output.newField(tag, list.added(i).keyValueBytes());
      }
    }
  }
}
