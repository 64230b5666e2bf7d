package io.otlp4j.wire;

import static io.otlp4j.wire.OtlpSchema.BYTES;
import static io.otlp4j.wire.OtlpSchema.CHILD;
import static io.otlp4j.wire.OtlpSchema.FIELDS;
import static io.otlp4j.wire.OtlpSchema.FIXED32;
import static io.otlp4j.wire.OtlpSchema.FIXED64;
import static io.otlp4j.wire.OtlpSchema.KIND;
import static io.otlp4j.wire.OtlpSchema.REPEATED_FIXED64;
import static io.otlp4j.wire.OtlpSchema.REPEATED_VARINT;
import static io.otlp4j.wire.OtlpSchema.STRING;
import static io.otlp4j.wire.OtlpSchema.TRACE_ID;
import static io.otlp4j.wire.OtlpSchema.UNKNOWN;
import static io.otlp4j.wire.OtlpSchema.VARINT;

import java.nio.ByteBuffer;
import java.util.EnumSet;
import java.util.Set;

/**
 * Tells which signal an encoded OTLP request (protobuf) carries, for tools that are handed a file
 * without being told (the {@code convert} and {@code inspect} commands).
 *
 * <p>The three export requests share their outer shape, so only the items tell them apart. A signal
 * is a candidate when {@link OtlpWalker} accepts the bytes as that signal's request; among the
 * candidates, those that read the bytes with the fewest <em>misfits</em> win. A misfit is a field
 * whose number the message defines (or leaves out of a range it uses, below {@code 17}) but that
 * arrives with another wire type or is absent from the schema: protobuf-java would keep it as an
 * unknown field. A request of one signal read as another is full of misfits at some depth (a
 * metric's {@code summary} is field 11 as a span's {@code events} is, but a summary's data points
 * are length-delimited where an event's time is fixed64), so a request that reads cleanly as
 * exactly one signal is detected as it. Field numbers above every OTLP message's (extensions, newer
 * versions) say nothing and are not counted.
 *
 * <p>A request without items, or whose items carry only fields that mean the same in two signals (a
 * metric with only a name reads as a span with a trace id), is ambiguous: {@link #candidates} then
 * names every signal it could be and {@link #detect} answers {@code null}. Malformed input has no
 * candidate. Servers never need this: the path or gRPC method names the signal.
 *
 * <p>Cost: up to three walks and three schema reads of the request; meant for tools, not for a data
 * path. Stateless and thread-safe. Never reads outside the buffer's remaining bytes and never
 * throws for malformed input.
 */
public final class SignalDetector {

  private SignalDetector() {}

  /**
   * Detects the signal of the encoded request in {@code bytes}, or returns {@code null} if it
   * cannot tell.
   */
  public static Signal detect(byte[] bytes) {
    return detect(ByteBuffer.wrap(bytes));
  }

  /**
   * Detects the signal of the encoded request in the remaining bytes of {@code request} (its
   * position is not changed), or returns {@code null} if it cannot tell: then {@link
   * #candidates(ByteBuffer)} says whether it is malformed (none) or ambiguous (several).
   */
  public static Signal detect(ByteBuffer request) {
    Set<Signal> candidates = candidates(request);
    return candidates.size() == 1 ? candidates.iterator().next() : null;
  }

  /** As {@link #candidates(ByteBuffer)} for the whole array. */
  public static Set<Signal> candidates(byte[] bytes) {
    return candidates(ByteBuffer.wrap(bytes));
  }

  /**
   * The signals the remaining bytes of {@code request} could be a request of (see the class
   * comment): empty when they are no valid request of any signal, one when the signal is known,
   * several when the bytes fit each of them equally well. The buffer's position and limit are not
   * changed.
   */
  public static Set<Signal> candidates(ByteBuffer request) {
    ByteBuffer view = request.duplicate();
    int start = view.position();
    int end = view.limit();
    EnumSet<Signal> best = EnumSet.noneOf(Signal.class);
    long fewest = Long.MAX_VALUE;
    for (Signal signal : Signal.values()) {
      long misfits;
      try {
        OtlpWalker.create().walk(signal, view, OtlpVisitor.NONE);
        misfits = misfits(view, start, start, end, OtlpSchema.requestType(signal), 0);
      } catch (WireFormatException malformed) {
        continue; // not a valid request of this signal
      }
      if (misfits < fewest) {
        fewest = misfits;
        best.clear();
      }
      if (misfits == fewest) {
        best.add(signal);
      }
    }
    return best;
  }

  /**
   * Counts the misfits of the message of {@code type} in {@code [p, end)}, recursively. Only called
   * on bytes the walker accepted for the same signal, so the nesting is within the walker's limit.
   */
  private static long misfits(ByteBuffer b, int base, int p, int end, int type, int depth) {
    final int row = type * FIELDS;
    long misfits = 0;
    while (p < end) {
      int tagPos = p;
      long tag = WireReader.readTag(b, p, end, base);
      p = WireReader.pos(tag);
      int field = WireReader.value(tag) >>> 3;
      int wireType = WireReader.value(tag) & 7;
      int next;
      int start = p;
      int stop = p;
      if (wireType == WireReader.LENGTH_DELIMITED) {
        long length = WireReader.readLength(b, p, end, base);
        start = WireReader.pos(length);
        stop = start + WireReader.value(length);
        next = stop;
      } else {
        next = WireReader.skipValue(b, wireType, tagPos, p, end, base);
      }
      if (field < FIELDS) {
        byte kind = KIND[row + field];
        if (!fits(kind, wireType)) {
          misfits++;
        } else if (wireType == WireReader.LENGTH_DELIMITED && isMessage(kind)) {
          misfits += misfits(b, base, start, stop, CHILD[row + field], depth + 1);
        }
      }
      p = next;
    }
    return misfits;
  }

  private static boolean fits(byte kind, int wireType) {
    switch (kind) {
      case UNKNOWN:
        return false;
      case VARINT:
        return wireType == WireReader.VARINT;
      case FIXED64:
        return wireType == WireReader.FIXED64;
      case FIXED32:
        return wireType == 5;
      case REPEATED_FIXED64:
        return wireType == WireReader.FIXED64 || wireType == WireReader.LENGTH_DELIMITED;
      case REPEATED_VARINT:
        return wireType == WireReader.VARINT || wireType == WireReader.LENGTH_DELIMITED;
      default: // strings, bytes and messages
        return wireType == WireReader.LENGTH_DELIMITED;
    }
  }

  private static boolean isMessage(byte kind) {
    return kind != STRING
        && kind != BYTES
        && kind != TRACE_ID
        && kind != REPEATED_FIXED64
        && kind != REPEATED_VARINT;
  }
}
