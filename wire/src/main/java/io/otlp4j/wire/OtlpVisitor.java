package io.otlp4j.wire;

/**
 * Receives the structure of an OTLP export request as {@link OtlpWalker} walks it: byte ranges of
 * the request's parts, in wire order, without any object being built.
 *
 * <p>Every range is {@code [start, end)} of a message's <em>content</em> (after its tag and
 * length), in offsets relative to the first byte of the walked input (a ByteBuf's reader index, a
 * ByteBuffer's position, the array offset). {@code Export*ServiceRequest}'s parsers accept the
 * content of an item range as the item message, and so on for every range.
 *
 * <p>Calls come in wire order and a parent's call always comes before its children's: {@link
 * #resource} before that Resource*'s {@link #resourceMessage} and {@link #scope} calls, {@link
 * #scope} before its {@link #item} calls, {@link #item} before that item's {@link #traceId} and
 * {@link #dataPoint} calls. A Resource* whose {@code resource} field comes after its scopes on the
 * wire (legal, unusual) gets its {@link #resourceMessage} call after those scopes.
 *
 * <p>All methods default to doing nothing, so a visitor implements only what it needs. A visitor is
 * called from the walking thread only; the walker never keeps it after the call returns. A visitor
 * that throws ends the walk with its exception.
 */
public interface OtlpVisitor {

  /** A visitor that does nothing: the walk only validates and counts. */
  OtlpVisitor NONE = new OtlpVisitor() {};

  /**
   * A {@code ResourceSpans} / {@code ResourceMetrics} / {@code ResourceLogs} message (field 1 of
   * the request).
   */
  default void resource(int start, int end) {}

  /** The {@code Resource} message (field 1 of the Resource* message); absent when the field is. */
  default void resourceMessage(int start, int end) {}

  /**
   * The UTF-8 bytes of the string value of the resource attribute named by {@link
   * OtlpWalker.Builder#resourceAttributeKey(String)}, once per Resource* at most: the first
   * attribute with that key decides, and nothing is reported when its value is not a string.
   */
  default void resourceAttribute(int start, int end) {}

  /**
   * A {@code ScopeSpans} / {@code ScopeMetrics} / {@code ScopeLogs} message (field 2 of Resource*).
   */
  default void scope(int start, int end) {}

  /** The {@code InstrumentationScope} message (field 1 of the Scope* message). */
  default void scopeMessage(int start, int end) {}

  /** A {@code Span}, {@code Metric} or {@code LogRecord} message (field 2 of Scope*). */
  default void item(int start, int end) {}

  /**
   * A data point of the current metric (a {@code NumberDataPoint}, {@code HistogramDataPoint},
   * {@code ExponentialHistogramDataPoint} or {@code SummaryDataPoint}). Every data point on the
   * wire is reported, including those of a data member that a later member of the same metric's
   * {@code data} oneof replaces (such points are not counted, as protobuf drops them).
   */
  default void dataPoint(int start, int end) {}

  /**
   * The bytes of the current span's or log record's {@code trace_id} field (any length, as on the
   * wire).
   */
  default void traceId(int start, int end) {}
}
