package io.otlp4j.wire;

/**
 * The one exception the wire module throws for malformed input: bad protobuf structure, bad
 * OTLP/JSON, a compressed stream that is corrupt or decompresses past its limit.
 *
 * <p>It carries the byte offset at which the problem was found (relative to the start of the input
 * as the caller gave it; {@code -1} where no offset applies) and a short reason meant for a person,
 * for example {@code "offset 17: length 4096 runs past the end of the message (ends at 120)"}.
 *
 * <p>Malformed input is an expected condition on a server's data path, so this exception does not
 * fill in a stack trace: throwing it costs about as much as returning an error code.
 */
public final class WireFormatException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final long offset;
  private final String reason;

  public WireFormatException(long offset, String reason) {
    super(offset >= 0 ? "offset " + offset + ": " + reason : reason, null, false, false);
    this.offset = offset;
    this.reason = reason;
  }

  /**
   * As {@link #WireFormatException(long, String)}, keeping the lower-level cause (a codec's own
   * error).
   */
  public WireFormatException(long offset, String reason, Throwable cause) {
    super(offset >= 0 ? "offset " + offset + ": " + reason : reason, cause, false, false);
    this.offset = offset;
    this.reason = reason;
  }

  /** The byte offset of the problem in the input, or {@code -1} when no offset applies. */
  public long offset() {
    return offset;
  }

  /** The reason, without the offset. */
  public String reason() {
    return reason;
  }
}
