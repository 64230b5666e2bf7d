package io.otlp4j.wire;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * A reusable, read-only {@link CharSequence} over a UTF-8 string field of an encoded message, for
 * {@link ElementView}'s accessors: comparing it ({@link #contentEquals(byte[])}), matching a regex
 * on it or reading it character by character allocates nothing. ASCII (the usual case for names and
 * keys) is read straight from the bytes; other text is decoded once into a reusable {@code char[]}.
 *
 * <p>A view is only valid during the {@link EditPolicy} callback that obtained it, and until the
 * accessor that returned it is called again; {@link #toString()} makes a copy that may be kept. An
 * absent field reads as the empty string ({@link #isPresent()} tells them apart). Not thread-safe.
 */
public final class TextView implements CharSequence {
  private ByteBuffer b;
  private int start;
  private int length;
  private boolean present;

  /** -1 not yet known, 0 all ASCII, 1 decoded into {@link #chars}. */
  private int state;

  private char[] chars = new char[0];
  private int charCount;

  TextView() {}

  TextView set(ByteBuffer b, int start, int length) {
    this.b = b;
    this.start = start;
    this.length = length;
    this.present = true;
    this.state = -1;
    this.charCount = -1;
    return this;
  }

  TextView absent() {
    this.b = null;
    this.length = 0;
    this.present = false;
    this.state = 0;
    return this;
  }

  /** Whether the field was present in the message (an empty string that was sent is present). */
  public boolean isPresent() {
    return present;
  }

  /** The length of the UTF-8 encoding in bytes. */
  public int utf8Length() {
    return length;
  }

  /** Whether the text's UTF-8 encoding is exactly {@code utf8}. */
  public boolean contentEquals(byte[] utf8) {
    if (!present) {
      return utf8.length == 0;
    }
    return WireReader.bytesEqual(b, start, length, utf8);
  }

  /** Whether the text equals {@code s}; allocates nothing for an ASCII {@code s}. */
  public boolean contentEquals(CharSequence s) {
    if (ascii()) {
      if (s.length() != length) {
        return false;
      }
      for (int i = 0; i < length; i++) {
        if (b.get(start + i) != s.charAt(i)) {
          return false;
        }
      }
      return true;
    }
    decode();
    if (s.length() != charCount) {
      return false;
    }
    for (int i = 0; i < charCount; i++) {
      if (chars[i] != s.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  @Override
  public int length() {
    if (ascii()) {
      return length;
    }
    decode();
    return charCount;
  }

  @Override
  public char charAt(int index) {
    if (ascii()) {
      if (index < 0 || index >= length) {
        throw new IndexOutOfBoundsException(index);
      }
      return (char) b.get(start + index);
    }
    decode();
    if (index < 0 || index >= charCount) {
      throw new IndexOutOfBoundsException(index);
    }
    return chars[index];
  }

  /** A copy (allocates). */
  @Override
  public CharSequence subSequence(int from, int to) {
    return toString().substring(from, to);
  }

  /** A copy of the text (allocates). */
  @Override
  public String toString() {
    if (length == 0) {
      return "";
    }
    byte[] copy = new byte[length];
    for (int i = 0; i < length; i++) {
      copy[i] = b.get(start + i);
    }
    return new String(copy, StandardCharsets.UTF_8);
  }

  private boolean ascii() {
    if (state < 0) {
      state = 0;
      for (int i = 0; i < length; i++) {
        if (b.get(start + i) < 0) {
          state = 1;
          break;
        }
      }
    }
    return state == 0;
  }

  /**
   * Decodes non-ASCII text into {@link #chars} (the walker or the input guarantees valid UTF-8, or
   * U+FFFD).
   */
  private void decode() {
    if (charCount >= 0) {
      return;
    }
    String s = toString(); // rare: non-ASCII names; the copy is bounded by the field's length
    if (chars.length < s.length()) {
      chars = new char[Math.max(s.length(), 2 * chars.length)];
    }
    s.getChars(0, s.length(), chars, 0);
    charCount = s.length();
  }
}
