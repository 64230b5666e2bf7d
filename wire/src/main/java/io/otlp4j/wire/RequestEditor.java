package io.otlp4j.wire;

import io.netty.buffer.ByteBuf;
import io.otlp4j.wire.ElementView.Kind;

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
 * {@code Resource*}, {@code Scope*}, item, data container, data point): the walk down to the items
 * is the one {@link RequestPartitioner} makes too ({@code RequestWalk}), and nothing recurses
 * deeper than that.
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
