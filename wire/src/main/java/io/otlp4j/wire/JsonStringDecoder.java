package io.otlp4j.wire;

import com.fasterxml.jackson.core.JsonParser;
import io.otlp4j.wire.OtlpJsonSchema.Field;
import java.io.IOException;

/**
 * Turns the characters of a JSON string token into the bytes of a protobuf field for {@link
 * JsonToProtobuf}: UTF-8 text, hexadecimal trace and span ids, base64 {@code bytes}. The result is
 * left in {@link #scratch}, an array reused across values (grown, never shrunk), so that no {@code
 * String} or {@code byte[]} is allocated per value; it is valid until the next call. Not
 * thread-safe: one instance per transcoding.
 */
final class JsonStringDecoder {

  private final JsonParser p;
  byte[] scratch = new byte[256];

  JsonStringDecoder(JsonParser parser) {
    this.p = parser;
  }

  /**
   * Encodes chars as UTF-8 into {@link #scratch}; an unpaired surrogate becomes '?', as in
   * String.getBytes.
   */
  int encodeUtf8(char[] c, int off, int len) {
    byte[] b = scratch(len * 3);
    int p = 0;
    int end = off + len;
    int i = off;
    for (; i < end; i++) {
      char ch = c[i];
      if (ch >= 0x80) {
        break;
      }
      b[p++] = (byte) ch;
    }
    for (; i < end; i++) {
      char ch = c[i];
      if (ch < 0x80) {
        b[p++] = (byte) ch;
      } else if (ch < 0x800) {
        b[p++] = (byte) (0xC0 | (ch >>> 6));
        b[p++] = (byte) (0x80 | (ch & 0x3F));
      } else if (Character.isSurrogate(ch)) {
        if (Character.isHighSurrogate(ch) && i + 1 < end && Character.isLowSurrogate(c[i + 1])) {
          int cp = Character.toCodePoint(ch, c[++i]);
          b[p++] = (byte) (0xF0 | (cp >>> 18));
          b[p++] = (byte) (0x80 | ((cp >>> 12) & 0x3F));
          b[p++] = (byte) (0x80 | ((cp >>> 6) & 0x3F));
          b[p++] = (byte) (0x80 | (cp & 0x3F));
        } else {
          b[p++] = (byte) '?';
        }
      } else {
        b[p++] = (byte) (0xE0 | (ch >>> 12));
        b[p++] = (byte) (0x80 | ((ch >>> 6) & 0x3F));
        b[p++] = (byte) (0x80 | (ch & 0x3F));
      }
    }
    return p;
  }

  void decodeHex(Field f, char[] c, int off, int len) throws IOException {
    if (len != f.idLength * 2) {
      throw error(
          f.describe()
              + " must be "
              + f.idLength * 2
              + " hex digits, found "
              + len
              + " characters");
    }
    byte[] b = scratch(f.idLength);
    for (int i = 0; i < f.idLength; i++) {
      int hi = hexValue(c[off + 2 * i]);
      int lo = hexValue(c[off + 2 * i + 1]);
      if ((hi | lo) < 0) {
        throw error(f.describe() + " is not hexadecimal: '" + p.getText() + "'");
      }
      b[i] = (byte) ((hi << 4) | lo);
    }
  }

  private static int hexValue(char c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
      return c - 'A' + 10;
    }
    return -1;
  }

  private static final byte[] BASE64 = new byte[128];

  static {
    java.util.Arrays.fill(BASE64, (byte) -1);
    String standard = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    for (int i = 0; i < standard.length(); i++) {
      BASE64[standard.charAt(i)] = (byte) i;
    }
    BASE64['+'] = 62;
    BASE64['/'] = 63;
    BASE64['-'] = 62; // URL-safe alphabet
    BASE64['_'] = 63;
  }

  /**
   * Decodes standard or URL-safe base64, padded or not, into {@link #scratch}; returns the length.
   */
  int decodeBase64(Field f, char[] c, int off, int len) throws IOException {
    int end = off + len;
    int pad = 0;
    while (end > off && c[end - 1] == '=' && pad < 2) {
      end--;
      pad++;
    }
    int chars = end - off;
    if (chars % 4 == 1 || (pad > 0 && (chars + pad) % 4 != 0)) {
      throw error(f.describe() + " is not valid base64 (length " + len + ")");
    }
    byte[] b = scratch(chars / 4 * 3 + 2);
    int n = 0;
    int acc = 0;
    int bits = 0;
    for (int i = off; i < end; i++) {
      char ch = c[i];
      int v = ch < 128 ? BASE64[ch] : -1;
      if (v < 0) {
        throw error(f.describe() + " is not valid base64: unexpected character '" + ch + "'");
      }
      acc = (acc << 6) | v;
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        b[n++] = (byte) (acc >>> bits);
        acc &= (1 << bits) - 1;
      }
    }
    return n;
  }

  private byte[] scratch(int size) {
    if (scratch.length < size) {
      scratch = new byte[Math.max(size, scratch.length * 2)];
    }
    return scratch;
  }

  private WireFormatException error(String reason) {
    return new WireFormatException(JsonToProtobuf.offset(p.currentTokenLocation()), reason);
  }
}
