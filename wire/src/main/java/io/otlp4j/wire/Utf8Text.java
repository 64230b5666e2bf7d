package io.otlp4j.wire;

/**
 * UTF-8 for {@link ProtoWriter}: the encoded length of a {@code CharSequence} and its encoding into
 * a byte array, both without a {@code String} or {@code byte[]} per value, and both treating an
 * unpaired surrogate as {@code '?'} (one byte), as {@code String.getBytes(UTF_8)} does. Stateless.
 */
final class Utf8Text {

  private Utf8Text() {}

  /**
   * The number of bytes {@code s} takes in UTF-8; an unpaired surrogate counts as one byte ('?').
   */
  static int utf8Length(CharSequence s) {
    int n = s.length();
    int length = n;
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        continue;
      }
      if (c < 0x800) {
        length += 1;
      } else if (Character.isHighSurrogate(c)
          && i + 1 < n
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        length += 2; // 4 bytes for 2 chars
        i++;
      } else if (Character.isSurrogate(c)) {
        // unpaired: written as '?', one byte, as String.getBytes(UTF_8) does
      } else {
        length += 2;
      }
    }
    return length;
  }

  static int encodeUtf8(CharSequence s, byte[] b, int p) {
    int n = s.length();
    int i = 0;
    // ASCII fast path: most OTLP keys and values.
    for (; i < n; i++) {
      char c = s.charAt(i);
      if (c >= 0x80) {
        break;
      }
      b[p++] = (byte) c;
    }
    for (; i < n; i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        b[p++] = (byte) c;
      } else if (c < 0x800) {
        b[p++] = (byte) (0xC0 | (c >>> 6));
        b[p++] = (byte) (0x80 | (c & 0x3F));
      } else if (Character.isSurrogate(c)) {
        if (Character.isHighSurrogate(c)
            && i + 1 < n
            && Character.isLowSurrogate(s.charAt(i + 1))) {
          int cp = Character.toCodePoint(c, s.charAt(++i));
          b[p++] = (byte) (0xF0 | (cp >>> 18));
          b[p++] = (byte) (0x80 | ((cp >>> 12) & 0x3F));
          b[p++] = (byte) (0x80 | ((cp >>> 6) & 0x3F));
          b[p++] = (byte) (0x80 | (cp & 0x3F));
        } else {
          b[p++] = (byte) '?';
        }
      } else {
        b[p++] = (byte) (0xE0 | (c >>> 12));
        b[p++] = (byte) (0x80 | ((c >>> 6) & 0x3F));
        b[p++] = (byte) (0x80 | (c & 0x3F));
      }
    }
    return p;
  }
}
