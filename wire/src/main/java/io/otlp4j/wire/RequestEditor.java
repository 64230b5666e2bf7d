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
import java.nio.ByteBuffer;

/**
 * Edits an encoded OTLP export request in place, as an {@link EditPolicy} decides element by
 * element: drops resources, scopes, spans, span events, span links, metrics, data points and log
 * records, and replaces the attribute list of any of them, touching only the bytes that change. The
 * generalisation of {@link ResourceRewrite}, and what the processors that filter, sample and
 * rewrite attributes are built on.
 *
 * <h2>What comes out</h2>
 *
 * A valid request of the same signal in which:
 *
 * <ul>
 *   <li>dropped elements are gone, with everything they hold;
 *   <li>a container that <em>becomes</em> empty is gone too: a metric that had data points and has
 *       none left, a {@code Scope*} that had spans (metrics, log records) and has none left, a
 *       {@code Resource*} that had {@code Scope*}s and has none left. A container that arrived
 *       empty stays, and a span whose events or links are all dropped stays;
 *   <li>an element whose attributes the policy changed is re-encoded: its other fields, unknown
 *       ones included, are kept as they were, its attribute list is the policy's (kept attributes
 *       as they arrived, byte for byte), and its length prefix and every enclosing one are new. A
 *       resource or scope message that arrived more than once gets the new list in the first and
 *       none in the others, so that protobuf's merge gives exactly the new list; a {@code
 *       Resource*} / {@code Scope*} without one gets one when the new list is not empty;
 *   <li>everything else (untouched elements, unknown fields at every level, the order of fields) is
 *       passed on as retained slices of the input, adjacent ones as one slice.
 * </ul>
 *
 * The new bytes are the added attributes and the length prefixes of changed containers, with one
 * exception that bounds the output's fragmentation: a changed container of at most {@value
 * EditOutput#COPY_LIMIT} bytes (a span, a data point, a log record with a changed attribute list)
 * is copied whole, so that it is one piece instead of a handful of slices, and neighbouring changed
 * ones join into one piece. Bigger changed containers keep their untouched parts as slices. A
 * policy that drops nothing and changes nothing gets the input back as one retained slice.
 *
 * <h2>Cost</h2>
 *
 * One pass over the request down to the items, and into them only where the policy visits what they
 * hold ({@link EditPolicy#visits}): for a policy that visits spans only, an unchanged span is
 * passed on without its fields being read. An element's fields are read only when the policy asks
 * for them. Per request: the output (a composite, or one buffer with {@link
 * Builder#contiguousOutput}); the views, the piece list and the scratch arrays are the calling
 * thread's, reused from edit to edit (a policy that edits from inside an edit gets fresh ones). Per
 * element nothing beyond the output's pieces and the bytes the policy adds ({@code EditorBenchmark}
 * and {@code ProcessorBenchmark} measure it with {@code -prof gc}; {@code ElementViewTest} checks
 * that reading allocates nothing per span). Nesting is fixed by the OTLP schema (at most request,
 * {@code Resource*}, {@code Scope*}, item, data container, data point): no recursion.
 *
 * <h2>Buffer ownership</h2>
 *
 * {@link #edit} only reads the input and does not take ownership: its indexes are unchanged and the
 * caller keeps (and releases) it. The returned buffer is owned by the caller and must be released;
 * it holds retained slices of the input (which raise the input's reference count until it is
 * released) and of one heap buffer of new bytes from {@code request.alloc()} (with {@link
 * Builder#contiguousOutput}: a buffer of its own from {@code request.alloc()}, holding no reference
 * to the input). On an exception, from malformed input or from the policy, nothing is left
 * allocated and the input's reference count is as it was. A composite input of several components
 * is read through one temporary copy (as {@link OtlpWalker#walk} does); the output still slices the
 * input itself.
 *
 * <p>Immutable and thread-safe; build once, edit any number of requests from any threads.
 */
public final class RequestEditor {
  private static final RequestEditor DEFAULT = builder().build();

  /**
   * Each thread's views, piece list and scratch arrays, reused edit after edit: an edit allocates
   * no objects of its own beyond the output's (see the class comment's Cost). Each thread keeps
   * what its largest request needed (a few ints per element, at most {@value
   * EditOutput#COPY_LIMIT}-odd scratch bytes) and no reference to any request after its edit.
   */
  private static final ThreadLocal<EditRun> RUNS = ThreadLocal.withInitial(EditRun::new);

  private final OtlpWalker walker;
  private final boolean validate;
  private final boolean contiguous;

  private RequestEditor(Builder builder) {
    this.walker = builder.walker;
    this.validate = builder.validate;
    this.contiguous = builder.contiguous;
  }

  /**
   * The editor with default settings: it validates each request with {@link OtlpWalker#create()}.
   */
  public static RequestEditor create() {
    return DEFAULT;
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns {@code request} edited by {@code policy}; see the class comment for what comes out and
   * who owns which buffer.
   *
   * @throws WireFormatException when the request is not valid (when validating: before the policy
   *     sees anything; otherwise possibly after it saw some elements); nothing is allocated then
   */
  public ByteBuf edit(Signal signal, ByteBuf request, EditPolicy policy) {
    return edit(signal, request, policy, run());
  }

  /**
   * {@link #edit}, and what the output holds: when the policy visits every span or log record
   * ({@link EditPolicy#visits} of {@link Kind#SPAN} or {@link Kind#LOG_RECORD}), the editor saw
   * every element it kept and counts them, so that a processor need not walk its output again to
   * give the exporters an exact {@link WalkSummary}. Ownership as for {@link #edit}: the caller
   * owns {@link EditedRequest#request()}.
   *
   * @throws WireFormatException as {@link #edit} does
   */
  public EditedRequest editCounted(Signal signal, ByteBuf request, EditPolicy policy) {
    EditRun run = run();
    ByteBuf edited = edit(signal, request, policy, run);
    WalkSummary kept =
        run.counted
            ? WalkSummary.counted(
                signal, edited.readableBytes(), run.keptResources, run.keptScopes, run.keptItems)
            : null;
    return new EditedRequest(edited, kept);
  }

  private ByteBuf edit(Signal signal, ByteBuf request, EditPolicy policy, EditRun run) {
    if (signal == null || request == null || policy == null) {
      throw new IllegalArgumentException("signal, request and policy must not be null");
    }
    if (validate) {
      walker.walk(signal, request);
    }
    return run.run(signal, request, policy, contiguous);
  }

  /** This thread's run, or a fresh one for a policy that edits another request inside an edit. */
  private static EditRun run() {
    EditRun run = RUNS.get();
    return run.busy ? new EditRun() : run;
  }

  /**
   * One edit: the output as pieces (source, start, length), and a heap buffer with the new bytes.
   */
  private static final class EditRun {
    private static final int UNCHANGED = 0;
    private static final int CHANGED = 1;
    private static final int DROPPED = 2;

    private static final int TAG_1 = (1 << 3) | 2;
    private static final int TAG_2 = (2 << 3) | 2;
    private static final int TAG_EVENT = (11 << 3) | 2;
    private static final int TAG_LINK = (13 << 3) | 2;
    private static final int TAG_TRACE_STATE = (3 << 3) | 2;

    private ByteBuffer b;
    private int base;
    private EditPolicy policy;
    private final EditOutput output = new EditOutput();
    private Kind itemKind;
    private int itemType;
    private int itemAttributes;
    private int pointsSeen;
    private int pointsKept;
    private final ElementView resource = new ElementView(null);
    private final ElementView scope = new ElementView(resource);
    private final ElementView item = new ElementView(scope);
    private final ElementView sub = new ElementView(item);
    // Which kinds the policy visits, and so how deep the edit must look.
    private boolean visitResource;
    private boolean visitScope;
    private boolean visitItem;
    private boolean visitEvent;
    private boolean visitLink;
    private boolean visitPoint;
    private boolean descendScopes;
    private boolean descendItems;
    private boolean descendSub;

    /** Whether an edit on this thread is using this run (a policy that edits inside an edit). */
    boolean busy;

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
      busy = true;
      try {
        this.b = WireReader.view(input);
        this.base = b.position();
        ByteAccess.Input memory = ByteAccess.atIndexZero(b);
        resource.memory(b, memory);
        scope.memory(b, memory);
        item.memory(b, memory);
        sub.memory(b, memory);
        this.policy = policy;
        switch (signal) {
          case TRACES -> {
            itemKind = Kind.SPAN;
            itemType = OtlpSchema.SPAN;
            itemAttributes = 9;
          }
          case METRICS -> {
            itemKind = Kind.METRIC;
            itemType = OtlpSchema.METRIC;
            itemAttributes = 12;
          }
          default -> {
            itemKind = Kind.LOG_RECORD;
            itemType = OtlpSchema.LOG_RECORD;
            itemAttributes = 6;
          }
        }
        visitResource = policy.visits(Kind.RESOURCE);
        visitScope = policy.visits(Kind.SCOPE);
        visitItem = policy.visits(itemKind);
        visitEvent = signal == Signal.TRACES && policy.visits(Kind.SPAN_EVENT);
        visitLink = signal == Signal.TRACES && policy.visits(Kind.SPAN_LINK);
        visitPoint = signal == Signal.METRICS && policy.visits(Kind.DATA_POINT);
        descendSub = visitEvent || visitLink || visitPoint;
        descendItems = visitItem || descendSub;
        descendScopes = visitScope || descendItems;
        counted = signal != Signal.METRICS && descendItems;
        keptResources = 0;
        keptScopes = 0;
        keptItems = 0;
        output.start(input, b, base);
        try {
          boolean changed = request() != UNCHANGED;
          return contiguous ? output.finishContiguous(changed) : output.finish(changed);
        } finally {
          output.release();
        }
      } finally {
        // Keep nothing of this request (nor the policy) past the edit.
        b = null;
        this.policy = null;
        sub.memory(null, null);
        item.memory(null, null);
        scope.memory(null, null);
        resource.memory(null, null);
        sub.reset(null, 0, Kind.RESOURCE, 0, 0);
        item.reset(null, 0, Kind.RESOURCE, 0, 0);
        scope.reset(null, 0, Kind.RESOURCE, 0, 0);
        resource.reset(null, 0, Kind.RESOURCE, 0, 0);
        busy = false;
      }
    }

    private int request() {
      boolean changed = false;
      int end = b.limit();
      int p = base;
      while (p < end) {
        int tagPos = p;
        long r = readTag(b, p, end, base);
        p = pos(r);
        int tag = value(r);
        p = skipValue(b, tag & 7, tagPos, p, end, base);
        if (tag == TAG_1 && (visitResource || descendScopes)) {
          int result = resourceEntry(tagPos, pos(readLength(b, pos(r), end, base)), p);
          keptResources += result == DROPPED ? 0 : 1;
          changed |= result != UNCHANGED;
        } else {
          output.inputPiece(tagPos, p);
        }
      }
      return changed ? CHANGED : UNCHANGED;
    }

    /** A {@code Resource*} whose content is {@code [start, end)}. */
    private int resourceEntry(int tagPos, int start, int end) {
      resource.reset(b, base, Kind.RESOURCE, OtlpSchema.T_RESOURCE, 1);
      resource.entry(start, end);
      if (visitResource) {
        if (policy.resource(resource) == Decision.DROP) {
          return DROPPED;
        }
      }
      int hole = output.open();
      boolean modified = resource.attributesModified();
      boolean changed = modified;
      if (modified && !resource.isPresent()) {
        newMessage(TAG_1, resource);
      }
      int occurrence = 0;
      int seen = 0;
      int kept = 0;
      int p = start;
      while (p < end) {
        int fieldStart = p;
        long r = readTag(b, p, end, base);
        p = pos(r);
        int tag = value(r);
        p = skipValue(b, tag & 7, fieldStart, p, end, base);
        if (tag == TAG_1 && modified) {
          reencode(TAG_1, pos(readLength(b, pos(r), end, base)), p, resource, occurrence++ == 0);
        } else if (tag == TAG_2 && descendScopes) {
          seen++;
          int s = scopeEntry(fieldStart, pos(readLength(b, pos(r), end, base)), p);
          kept += s == DROPPED ? 0 : 1;
          changed |= s != UNCHANGED;
        } else {
          output.inputPiece(fieldStart, p);
        }
      }
      if (seen > 0 && kept == 0) {
        output.rollback(hole);
        return DROPPED;
      }
      keptScopes += kept;
      return output.close(hole, TAG_1, tagPos, end, changed) ? CHANGED : UNCHANGED;
    }

    /** A {@code Scope*} whose content is {@code [start, end)}. */
    private int scopeEntry(int tagPos, int start, int end) {
      scope.reset(b, base, Kind.SCOPE, OtlpSchema.T_SCOPE, 3);
      scope.entry(start, end);
      if (visitScope) {
        if (policy.scope(scope) == Decision.DROP) {
          return DROPPED;
        }
      }
      int hole = output.open();
      boolean modified = scope.attributesModified();
      boolean changed = modified;
      if (modified && !scope.isPresent()) {
        newMessage(TAG_1, scope);
      }
      int occurrence = 0;
      int seen = 0;
      int kept = 0;
      int p = start;
      while (p < end) {
        int fieldStart = p;
        long r = readTag(b, p, end, base);
        p = pos(r);
        int tag = value(r);
        p = skipValue(b, tag & 7, fieldStart, p, end, base);
        if (tag == TAG_1 && modified) {
          reencode(TAG_1, pos(readLength(b, pos(r), end, base)), p, scope, occurrence++ == 0);
        } else if (tag == TAG_2 && descendItems) {
          seen++;
          int s = item(fieldStart, pos(readLength(b, pos(r), end, base)), p);
          kept += s == DROPPED ? 0 : 1;
          changed |= s != UNCHANGED;
        } else {
          output.inputPiece(fieldStart, p);
        }
      }
      if (seen > 0 && kept == 0) {
        output.rollback(hole);
        return DROPPED;
      }
      keptItems += kept;
      return output.close(hole, TAG_2, tagPos, end, changed) ? CHANGED : UNCHANGED;
    }

    /** A span, metric or log record whose content is {@code [start, end)}. */
    private int item(int tagPos, int start, int end) {
      item.reset(b, base, itemKind, itemType, itemAttributes);
      item.addSegment(start, end);
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

    /**
     * Where the metric's {@code data} oneof member that protobuf keeps starts to count: the first
     * occurrence of the last member after every occurrence of another member. An earlier member is
     * replaced when protobuf parses the metric, so its points are not visited (the policy would see
     * points that do not exist) and its bytes are passed on as they are (protobuf drops them
     * again).
     */
    private int activeDataStart(int start, int end) {
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
      if (kind == Kind.SPAN_EVENT
          ? !visitEvent
          : kind == Kind.SPAN_LINK ? !visitLink : !visitPoint) {
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
     * The message {@code [start, end)} again under {@code tag}, with its attribute fields replaced
     * by the view's edited list ({@code withAttributes}) or removed.
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

  /** Configures a {@link RequestEditor}. Not thread-safe; the editor it builds is. */
  public static final class Builder {
    private OtlpWalker walker = OtlpWalker.create();
    private boolean validate = true;
    private boolean contiguous;

    private Builder() {}

    /**
     * Whether {@link #edit} walks (validates) each request first (default true). Turn it off only
     * for requests this process has already walked: the editor reads what it passes through within
     * bounds and throws {@link WireFormatException} where that is broken, but does not look inside
     * what the policy does not read.
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

    /**
     * Whether a changed request comes out as one buffer (default false): the output's pieces copied
     * into one direct buffer of exactly its size from the input's allocator, instead of a composite
     * of retained slices. For a caller that reads or copies the whole result anyway (a processor
     * that drops items walks it for its counts): it saves the composite's objects per piece (a
     * slice and a component for each run of kept bytes) and frees the input sooner. An unchanged
     * request is still one retained slice of the input.
     */
    public Builder contiguousOutput(boolean contiguous) {
      this.contiguous = contiguous;
      return this;
    }

    public RequestEditor build() {
      return new RequestEditor(this);
    }
  }

  @Override
  public String toString() {
    return "RequestEditor[validation=" + validate + ", contiguous=" + contiguous + "]";
  }
}
