package io.otlp4j.wire;

import java.nio.ByteBuffer;

/**
 * Guesses which signal an encoded OTLP request (protobuf) carries, for tools that are handed a file
 * without being told (the {@code convert} and {@code inspect} commands).
 *
 * <p>The three export requests share their outer shape, so only the items tell them apart: it looks
 * at the fields of the first items and scores each signal by how many field numbers arrive with the
 * wire type that signal's schema gives them (a span's times are fixed64 where a metric has messages,
 * a log record's field 1 is fixed64 where a span's is bytes). A request without items carries no
 * such evidence, and neither does malformed input: then the answer is {@code null} and the caller
 * must be told the signal. Servers never need this: the path or gRPC method names the signal.
 *
 * <p>Stateless and thread-safe. Never reads outside the buffer's remaining bytes and never throws
 * for malformed input (it reads with the walker's bounds-checked {@code WireReader}).
 */
public final class SignalDetector {
  private static final int ITEMS_TO_EXAMINE = 8;

  // Wire type per field number of Span, Metric and LogRecord (-1: no such field).
  private static final int[] SPAN = wireTypes(
      1, 2, 2, 2, 3, 2, 4, 2, 5, 2, 6, 0, 7, 1, 8, 1, 9, 2, 10, 0, 11, 2, 12, 0, 13, 2, 14, 0, 15, 2, 16, 5);
  private static final int[] METRIC = wireTypes(1, 2, 2, 2, 3, 2, 5, 2, 7, 2, 9, 2, 10, 2, 11, 2, 12, 2);
  private static final int[] LOG_RECORD = wireTypes(
      1, 1, 2, 0, 3, 2, 5, 2, 6, 2, 7, 0, 8, 5, 9, 2, 10, 2, 11, 1, 12, 2);

  private SignalDetector() {}

  /** Detects the signal of the encoded request in {@code bytes}, or returns {@code null} if it cannot tell. */
  public static Signal detect(byte[] bytes) {
    return detect(ByteBuffer.wrap(bytes));
  }

  /**
   * Detects the signal of the encoded request in the remaining bytes of {@code request} (its position
   * is not changed), or returns {@code null} if it cannot tell.
   */
  public static Signal detect(ByteBuffer request) {
    int[] scores = new int[3];
    int[] itemsSeen = new int[1];
    try {
      forEachField(request, request.position(), request.limit(), 1, (rStart, rEnd) ->
          forEachField(request, rStart, rEnd, 2, (sStart, sEnd) ->
              forEachField(request, sStart, sEnd, 2, (iStart, iEnd) -> {
                if (itemsSeen[0]++ < ITEMS_TO_EXAMINE) {
                  score(request, iStart, iEnd, scores);
                }
              })));
    } catch (WireFormatException malformed) {
      return null;
    }
    int best = -1;
    boolean tie = false;
    for (int i = 0; i < 3; i++) {
      if (best < 0 || scores[i] > scores[best]) {
        best = i;
        tie = false;
      } else if (scores[i] == scores[best]) {
        tie = true;
      }
    }
    if (tie || scores[best] <= 0) {
      return null;
    }
    return Signal.values()[best];
  }

  private interface RangeConsumer {
    void accept(int start, int end);
  }

  /** Calls {@code consumer} with the content range of each length-delimited field {@code wanted}. */
  private static void forEachField(ByteBuffer b, int start, int end, int wanted, RangeConsumer consumer) {
    int p = start;
    while (p < end) {
      int tagPos = p;
      long tag = WireReader.readTag(b, p, end, 0);
      p = WireReader.pos(tag);
      int wireType = WireReader.value(tag) & 7;
      if (wireType == WireReader.LENGTH_DELIMITED && WireReader.value(tag) >>> 3 == wanted) {
        long length = WireReader.readLength(b, p, end, 0);
        p = WireReader.pos(length);
        consumer.accept(p, p + WireReader.value(length));
        p += WireReader.value(length);
      } else {
        p = WireReader.skipValue(b, wireType, tagPos, p, end, 0);
      }
    }
  }

  private static void score(ByteBuffer b, int start, int end, int[] scores) {
    int[][] schemas = {SPAN, METRIC, LOG_RECORD};
    int p = start;
    while (p < end) {
      int tagPos = p;
      long tag = WireReader.readTag(b, p, end, 0);
      p = WireReader.pos(tag);
      int field = WireReader.value(tag) >>> 3;
      int wireType = WireReader.value(tag) & 7;
      for (int s = 0; s < 3; s++) {
        int[] schema = schemas[s];
        int expected = field < schema.length ? schema[field] : -1;
        if (expected == wireType) {
          scores[s] += 1;
        } else if (expected >= 0) {
          scores[s] -= 2;
        }
      }
      p = WireReader.skipValue(b, wireType, tagPos, p, end, 0);
    }
  }

  private static int[] wireTypes(int... fieldAndType) {
    int max = 0;
    for (int i = 0; i < fieldAndType.length; i += 2) {
      max = Math.max(max, fieldAndType[i]);
    }
    int[] types = new int[max + 1];
    java.util.Arrays.fill(types, -1);
    for (int i = 0; i < fieldAndType.length; i += 2) {
      types[fieldAndType[i]] = fieldAndType[i + 1];
    }
    return types;
  }
}
