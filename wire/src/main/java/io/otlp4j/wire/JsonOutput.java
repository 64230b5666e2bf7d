package io.otlp4j.wire;

import com.fasterxml.jackson.core.io.NumberOutput;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;

/**
 * The protobuf to OTLP/JSON transcoder's output: compact UTF-8 JSON written straight into a byte
 * array, with the commas a JSON generator would put, and nothing else a generator does (no context
 * stack, no per-token state checks, no char buffers). It writes byte for byte what the Jackson
 * {@code UTF8JsonGenerator} that the transcoder used before wrote for the same tokens (the same
 * string escapes: the short forms {@code \" \\ \b \t \n \f \r}, {@code \\u00XX} with upper-case hex
 * for the other control characters, UTF-8 passed through; doubles with Jackson's fast writer;
 * standard padded base64): {@code OtlpJsonOutputTest} holds it to that by rewriting the output
 * through Jackson.
 *
 * <p>Without a sink the array grows to hold everything ({@link #bytes()}, {@link #size()}); with
 * one, whatever is written is passed on to it in chunks of about {@link #CHUNK} bytes and at {@link
 * #drain()}.
 *
 * <p>Not thread-safe: one instance per transcoding.
 */
final class JsonOutput {
  /** With a sink: bytes collected before they are written to it. */
  static final int CHUNK = 16 * 1024;

  /** Longest run of string bytes escaped against one capacity check (each may take 6 bytes). */
  private static final int STRING_SEGMENT = 4096;

  private static final byte[] HEX_LOWER = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] HEX_UPPER = "0123456789ABCDEF".getBytes(StandardCharsets.US_ASCII);

  /**
   * Per byte value: 0 where the byte is copied as it is (printable ASCII but {@code "} and {@code
   * \}), 1 for the start of a UTF-8 sequence (validated, then copied), else the escape: the
   * character after the backslash, or 'u' for {@code \\u00XX}.
   */
  private static final byte[] CLASS = new byte[256];

  /** Eight bytes of a {@code byte[]} at once, for the run of plain bytes in a string. */
  private static final VarHandle LONGS =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

  private static final long ONES = 0x0101010101010101L;
  private static final long HIGHS = 0x8080808080808080L;

  static {
    for (int c = 0; c < 0x20; c++) {
      CLASS[c] = 'u';
    }
    CLASS['\b'] = 'b';
    CLASS['\t'] = 't';
    CLASS['\n'] = 'n';
    CLASS['\f'] = 'f';
    CLASS['\r'] = 'r';
    CLASS['"'] = '"';
    CLASS['\\'] = '\\';
    for (int c = 0x80; c < 0x100; c++) {
      CLASS[c] = 1;
    }
  }

  private final OutputStream sink;
  private byte[] buf;
  private int pos;

  /** Whether the next value or key needs a comma before it (a value or member came before). */
  private boolean afterValue;

  /** While a {@link #mark} is held: nothing goes to the sink, so that it can be taken back. */
  private boolean held;

  /** A point in the output to go back to (see {@link #mark}). */
  static final class Mark {
    final int pos;
    final boolean afterValue;

    Mark(int pos, boolean afterValue) {
      this.pos = pos;
      this.afterValue = afterValue;
    }
  }

  /** Collects the whole JSON in a growing array. */
  JsonOutput(int initialCapacity) {
    this.sink = null;
    this.buf = new byte[Math.max(64, initialCapacity)];
  }

  /** Passes the JSON on to {@code sink} in chunks (the sink is not flushed or closed here). */
  JsonOutput(OutputStream sink) {
    this.sink = sink;
    this.buf = new byte[CHUNK + 1024];
  }

  byte[] bytes() {
    return buf;
  }

  int size() {
    return pos;
  }

  /** Forgets what was written (without a sink) and the comma state. */
  void reset() {
    pos = 0;
    afterValue = false;
  }

  /**
   * Marks this point: until {@link #release} or {@link #rewind}, what is written stays in the array
   * (it grows rather than going to the sink), so that {@link #rewind} can take it back. One mark at
   * a time.
   */
  Mark mark() {
    if (held) {
      throw new IllegalStateException("a mark is held already");
    }
    held = true;
    return new Mark(pos, afterValue);
  }

  /** Keeps what was written since {@code mark}. */
  void release(Mark mark) throws IOException {
    held = false;
    chunkDone();
  }

  /** Takes back what was written since {@code mark}. */
  void rewind(Mark mark) {
    held = false;
    pos = mark.pos;
    afterValue = mark.afterValue;
  }

  /** Writes what is collected to the sink. */
  void drain() throws IOException {
    if (sink != null && pos > 0) {
      sink.write(buf, 0, pos);
      pos = 0;
    }
  }

  /** Room for {@code more} bytes at {@link #pos}. */
  private void ensure(int more) throws IOException {
    if (buf.length - pos >= more) {
      return;
    }
    if (sink != null && !held) {
      drain();
      if (buf.length >= more) {
        return;
      }
    }
    long needed = (long) pos + more;
    if (needed > Integer.MAX_VALUE - 8) {
      throw new IllegalStateException("JSON output over 2 GiB");
    }
    buf =
        Arrays.copyOf(
            buf, (int) Math.min(Integer.MAX_VALUE - 8, Math.max(needed, buf.length * 2L)));
  }

  /** After each token: with a sink, passes on a full chunk. */
  private void chunkDone() throws IOException {
    if (sink != null && pos >= CHUNK && !held) {
      drain();
    }
  }

  // ---------------------------------------------------------------- structure

  void startObject() throws IOException {
    ensure(2);
    if (afterValue) {
      buf[pos++] = ',';
    }
    buf[pos++] = '{';
    afterValue = false;
  }

  void endObject() throws IOException {
    ensure(1);
    buf[pos++] = '}';
    afterValue = true;
    chunkDone();
  }

  void startArray() throws IOException {
    ensure(2);
    if (afterValue) {
      buf[pos++] = ',';
    }
    buf[pos++] = '[';
    afterValue = false;
  }

  void endArray() throws IOException {
    ensure(1);
    buf[pos++] = ']';
    afterValue = true;
    chunkDone();
  }

  /** A member's key: {@code key} is its quoted name and the colon, ASCII. */
  void key(byte[] key) throws IOException {
    int n = key.length;
    ensure(n + 1);
    if (afterValue) {
      buf[pos++] = ',';
    }
    System.arraycopy(key, 0, buf, pos, n);
    pos += n;
    afterValue = false;
  }

  /** Room for a value of up to {@code length} bytes, its comma written. */
  private void beginValue(int length) throws IOException {
    ensure(length + 1);
    if (afterValue) {
      buf[pos++] = ',';
    }
    afterValue = true;
  }

  // ---------------------------------------------------------------- values

  void bool(boolean v) throws IOException {
    beginValue(5);
    if (v) {
      buf[pos++] = 't';
      buf[pos++] = 'r';
      buf[pos++] = 'u';
      buf[pos++] = 'e';
    } else {
      buf[pos++] = 'f';
      buf[pos++] = 'a';
      buf[pos++] = 'l';
      buf[pos++] = 's';
      buf[pos++] = 'e';
    }
  }

  /** A JSON number. */
  void number(long v) throws IOException {
    beginValue(21);
    pos = decimal(v, false, buf, pos);
  }

  /** A JSON string of the decimal digits of {@code v}, unsigned if {@code unsigned}. */
  void decimalString(long v, boolean unsigned) throws IOException {
    beginValue(23);
    buf[pos++] = '"';
    pos = decimal(v, unsigned, buf, pos);
    buf[pos++] = '"';
  }

  /** A finite double as a JSON number, as Jackson's fast double writer formats it. */
  void number(double v) throws IOException {
    ascii(NumberOutput.toString(v, true), false);
  }

  /** A string of ASCII characters with nothing to escape, quoted if {@code quoted}. */
  void ascii(String s, boolean quoted) throws IOException {
    int n = s.length();
    beginValue(n + 2);
    if (quoted) {
      buf[pos++] = '"';
    }
    for (int i = 0; i < n; i++) {
      buf[pos++] = (byte) s.charAt(i);
    }
    if (quoted) {
      buf[pos++] = '"';
    }
  }

  /** {@code b[start, start + length)} as a JSON string of lower-case hex digits. */
  void hex(byte[] b, int start, int length) throws IOException {
    beginValue(2 * length + 2);
    byte[] out = buf;
    int p = pos;
    out[p++] = '"';
    for (int i = start, end = start + length; i < end; i++) {
      int v = b[i] & 0xFF;
      out[p++] = HEX_LOWER[v >>> 4];
      out[p++] = HEX_LOWER[v & 0xF];
    }
    out[p++] = '"';
    pos = p;
  }

  /** {@code b[start, start + length)} as a JSON string in standard base64 with padding. */
  void base64(byte[] b, int start, int length) throws IOException {
    ByteBuffer encoded = Base64.getEncoder().encode(ByteBuffer.wrap(b, start, length));
    int n = encoded.remaining();
    beginValue(n + 2);
    buf[pos++] = '"';
    encoded.get(buf, pos, n);
    pos += n;
    buf[pos++] = '"';
    chunkDone();
  }

  /**
   * {@code b[from, to)}, which must be UTF-8, as a JSON string. Returns -1, or the index of the
   * first byte of an invalid UTF-8 sequence (what protobuf-java's {@code Utf8.isValidUtf8} refuses:
   * overlong forms, surrogates, code points above U+10FFFF, truncated sequences); then the output
   * holds part of the string.
   */
  int utf8String(byte[] b, int from, int to) throws IOException {
    beginValue(2);
    buf[pos++] = '"';
    int i = from;
    while (i < to) {
      int segmentEnd = Math.min(to, i + STRING_SEGMENT);
      ensure(6 * (segmentEnd - i) + 1);
      byte[] out = buf;
      int p = pos;
      while (i < segmentEnd) {
        // Eight plain bytes (ASCII, no control character, quote or backslash) copied at once: the
        // usual attribute value is all plain, and the byte loop was a quarter of the file
        // exporter's transcoding (JsonBenchmark, FileExporterBenchmark measure it).
        if (i + 8 <= segmentEnd) {
          long x = (long) LONGS.get(b, i);
          if (plain8(x)) {
            LONGS.set(out, p, x);
            p += 8;
            i += 8;
            continue;
          }
        }
        int c = b[i];
        int cls = CLASS[c & 0xFF];
        if (cls == 0) {
          out[p++] = (byte) c;
          i++;
          continue;
        }
        if (cls == 1) {
          int n = utf8SequenceLength(b, i, to);
          if (n < 0) {
            pos = p;
            return i;
          }
          // A sequence may end past segmentEnd: at most 3 more bytes, within the 6x room.
          for (int k = 0; k < n; k++) {
            out[p++] = b[i + k];
          }
          i += n;
          continue;
        }
        out[p++] = '\\';
        if (cls == 'u') {
          out[p++] = 'u';
          out[p++] = '0';
          out[p++] = '0';
          out[p++] = HEX_UPPER[c >>> 4];
          out[p++] = HEX_UPPER[c & 0xF];
        } else {
          out[p++] = (byte) cls;
        }
        i++;
      }
      pos = p;
    }
    ensure(1);
    buf[pos++] = '"';
    chunkDone();
    return -1;
  }

  /**
   * Whether none of the eight bytes in {@code x} needs more than a copy in a JSON string: each is
   * below 0x80, at least 0x20, and neither {@code '"'} nor {@code '\\'} ({@link #CLASS} 0). Each
   * test is exact for "some byte is": a byte below n is found by {@code (x - n*ONES) & ~x & HIGHS}
   * for n up to 0x80, a zero byte by the same with n = 1.
   */
  static boolean plain8(long x) {
    long high = x & HIGHS;
    long control = (x - 0x20 * ONES) & ~x & HIGHS;
    long q = x ^ ('"' * ONES);
    long quote = (q - ONES) & ~q & HIGHS;
    long bs = x ^ ('\\' * ONES);
    long backslash = (bs - ONES) & ~bs & HIGHS;
    return (high | control | quote | backslash) == 0;
  }

  /**
   * The length of the valid UTF-8 sequence of two to four bytes starting at {@code b[i]} (a byte
   * {@code >= 0x80}) within {@code b[.., to)}, or -1 when it is invalid.
   */
  private static int utf8SequenceLength(byte[] b, int i, int to) {
    int c = b[i] & 0xFF;
    if (c < 0xC2) {
      return -1;
    }
    if (c < 0xE0) {
      return i + 1 < to && (b[i + 1] & 0xC0) == 0x80 ? 2 : -1;
    }
    if (c < 0xF0) {
      if (i + 2 >= to) {
        return -1;
      }
      int c1 = b[i + 1] & 0xFF;
      if ((c1 & 0xC0) != 0x80
          || (b[i + 2] & 0xC0) != 0x80
          || (c == 0xE0 && c1 < 0xA0) // overlong
          || (c == 0xED && c1 >= 0xA0)) { // surrogate
        return -1;
      }
      return 3;
    }
    if (c < 0xF5) {
      if (i + 3 >= to) {
        return -1;
      }
      int c1 = b[i + 1] & 0xFF;
      if ((c1 & 0xC0) != 0x80
          || (b[i + 2] & 0xC0) != 0x80
          || (b[i + 3] & 0xC0) != 0x80
          || (c == 0xF0 && c1 < 0x90) // overlong
          || (c == 0xF4 && c1 >= 0x90)) { // above U+10FFFF
        return -1;
      }
      return 4;
    }
    return -1;
  }

  /**
   * Writes the decimal digits of {@code v} (unsigned if {@code unsigned}) at {@code out[p]} and
   * returns the index after them; at most 20 bytes.
   */
  private static int decimal(long v, boolean unsigned, byte[] out, int p) {
    if (v >= 0 && v < 10) {
      out[p] = (byte) ('0' + v);
      return p + 1;
    }
    if (v < 0) {
      if (unsigned) {
        // Above Long.MAX_VALUE: the digits of v / 10 (positive), then the last one.
        long quotient = (v >>> 1) / 5;
        p = positiveDecimal(quotient, out, p);
        out[p] = (byte) ('0' + (v - quotient * 10));
        return p + 1;
      }
      out[p++] = '-';
      if (v == Long.MIN_VALUE) {
        // -v overflows: "922337203685477580" then '8'.
        p = positiveDecimal(-(v / 10), out, p);
        out[p] = '8';
        return p + 1;
      }
      v = -v;
    }
    return positiveDecimal(v, out, p);
  }

  /**
   * The decimal digits of {@code v > 0} at {@code p}, written in place from the last: eight digits
   * per long division, then two per int division with a table. An int64 timestamp (19 digits) was
   * 19 dependent divisions, and the number formatting about a twelfth of the file exporter's
   * transcoding (JsonBenchmark measures it).
   */
  private static int positiveDecimal(long v, byte[] out, int p) {
    int end = p + decimalDigits(v);
    int q = end;
    while (v >= 100_000_000L) {
      long high = v / 100_000_000L;
      int low = (int) (v - high * 100_000_000L);
      for (int k = 0; k < 4; k++) {
        int h = low / 100;
        int pair = (low - h * 100) << 1;
        out[--q] = DIGIT_PAIRS[pair + 1];
        out[--q] = DIGIT_PAIRS[pair];
        low = h;
      }
      v = high;
    }
    int rest = (int) v;
    while (rest >= 100) {
      int h = rest / 100;
      int pair = (rest - h * 100) << 1;
      out[--q] = DIGIT_PAIRS[pair + 1];
      out[--q] = DIGIT_PAIRS[pair];
      rest = h;
    }
    if (rest >= 10) {
      out[--q] = DIGIT_PAIRS[(rest << 1) + 1];
      out[--q] = DIGIT_PAIRS[rest << 1];
    } else {
      out[--q] = (byte) ('0' + rest);
    }
    return end;
  }

  /** How many decimal digits {@code v > 0} has: from its bit length, corrected by one compare. */
  static int decimalDigits(long v) {
    int guess = ((64 - Long.numberOfLeadingZeros(v)) * 1233) >>> 12; // bits * log10(2)
    return guess + (v >= POWERS_OF_TEN[guess] ? 1 : 0);
  }

  /** 10^0 .. 10^18. */
  private static final long[] POWERS_OF_TEN = new long[19];

  /** "00", "01" .. "99", as ASCII bytes. */
  private static final byte[] DIGIT_PAIRS = new byte[200];

  static {
    long power = 1;
    for (int i = 0; i < POWERS_OF_TEN.length; i++) {
      POWERS_OF_TEN[i] = power;
      power *= 10;
    }
    for (int i = 0; i < 100; i++) {
      DIGIT_PAIRS[2 * i] = (byte) ('0' + i / 10);
      DIGIT_PAIRS[2 * i + 1] = (byte) ('0' + i % 10);
    }
  }
}
