package io.otlp4j.relay.component;

/**
 * A span's W3C {@code tracestate} as the Collector's {@code probabilistic_sampler} reads and writes
 * it: the list syntax of W3C Trace Context (at most 1024 characters and 32 members, keys and values
 * as the specification spells them, optional white space around the commas), with OpenTelemetry's
 * {@code ot} member parsed further ({@code key:value} pairs separated by {@code ;}, at most 256
 * characters): its {@code rv} (explicit randomness, 14 hex digits) and {@code th} (threshold, 1 to
 * 14 hex digits). {@link #serialize} writes it back the Collector's way: {@code ot} first ({@code
 * rv}, then {@code th}, then its other pairs, in order), then the other members in order, without
 * the white space.
 *
 * <p>Reusable and allocation free: it keeps positions in the text it parsed, which must stay
 * unchanged until {@link #serialize}. One per thread (one per request's policy).
 */
final class W3cTraceState {
  /** What {@link #parse} found wrong, for the log; {@link #OK} when nothing. */
  static final int OK = 0;

  static final int SIZE = 1;
  static final int SYNTAX = 2;
  static final int R_VALUE = 3;
  static final int T_VALUE = 4;

  static final int MAX_LENGTH = 1024;
  static final int MAX_OT_LENGTH = 256;
  private static final int MAX_MEMBERS = 32;

  /** Enough for any parsed trace state with {@code rv} and {@code th} added. */
  static final int MAX_SERIALIZED = MAX_LENGTH + 64;

  private CharSequence text;
  private int error;

  /** The randomness, or -1; from the text at {@code [rStart, rEnd)} unless {@code rNew}. */
  private long r;

  private int rStart;
  private int rEnd;
  private boolean rNew;

  /** The threshold, or -1; as for {@code r}. */
  private long t;

  private int tStart;
  private int tEnd;
  private boolean tNew;

  /** The {@code ot} pairs other than rv and th: start, end. */
  private int[] otExtras = new int[16];

  private int otExtraCount;

  /** The members other than {@code ot}, white space trimmed: start, end. */
  private int[] members = new int[16];

  private int memberCount;

  /** Parses {@code s}; true when it is valid (an empty trace state is). */
  boolean parse(CharSequence s) {
    text = s;
    error = OK;
    resetOt();
    memberCount = 0;
    int n = s.length();
    if (n > MAX_LENGTH) {
      return fail(SIZE);
    }
    int otStart = -1;
    int otEnd = -1;
    int items = 0;
    int segment = 0;
    int start = 0;
    while (start <= n) {
      int comma = indexOf(s, ',', start, n);
      int end = comma < 0 ? n : comma;
      boolean last = comma < 0;
      if (!last || end > start) {
        items++; // the Collector counts every member, empty ones included, but not a final ""
      }
      int a = start;
      while (a < end && isOws(s.charAt(a))) {
        a++;
      }
      int b = end;
      while (b > a && isOws(s.charAt(b - 1))) {
        b--;
      }
      if (a < b) {
        if ((segment == 0 && a > start) || (last && b < end)) {
          return fail(SYNTAX);
        }
        int eq = indexOf(s, '=', a, b);
        if (eq < 0 || !validKey(s, a, eq) || !validValue(s, eq + 1, b)) {
          return fail(SYNTAX);
        }
        if (eq - a == 2 && s.charAt(a) == 'o' && s.charAt(a + 1) == 't') {
          if (otStart >= 0) {
            // a later ot member replaces an earlier one, whose errors still count
            parseOt(s, otStart, otEnd);
          }
          otStart = eq + 1;
          otEnd = b;
        } else {
          addMember(a, b);
        }
      }
      segment++;
      if (last) {
        break;
      }
      start = comma + 1;
    }
    if (items >= MAX_MEMBERS) {
      return fail(SIZE);
    }
    if (otStart >= 0) {
      parseOt(s, otStart, otEnd);
    }
    return error == OK;
  }

  /** The error {@link #parse} found ({@link #OK} when none). */
  int error() {
    return error;
  }

  boolean hasR() {
    return r >= 0;
  }

  long r() {
    return r;
  }

  /** Sets explicit randomness (written as 14 lower-case hex digits). */
  void setR(long randomness) {
    r = randomness;
    rNew = true;
  }

  boolean hasT() {
    return t >= 0;
  }

  long t() {
    return t;
  }

  void clearT() {
    t = -1;
  }

  /**
   * The threshold the item was sampled with: refused (false) when it would raise the probability
   * the item already carries, as the Collector refuses it; {@link ConsistentSampling#NEVER} clears
   * it.
   */
  boolean updateT(long threshold) {
    if (hasT() && t > threshold) {
      return false;
    }
    t = threshold >= ConsistentSampling.NEVER ? -1 : threshold;
    tNew = true;
    return true;
  }

  /** Writes the trace state into {@code out} (at least {@link #MAX_SERIALIZED}); its length. */
  int serialize(byte[] out) {
    int p = 0;
    if (hasR() || hasT() || otExtraCount > 0) {
      out[p++] = 'o';
      out[p++] = 't';
      out[p++] = '=';
      int pairs = 0;
      if (hasR()) {
        p = pairName(out, p, pairs++, 'r', 'v');
        p = rNew ? ConsistentSampling.writeRValue(r, out, p) : copy(out, p, rStart, rEnd);
      }
      if (hasT()) {
        p = pairName(out, p, pairs++, 't', 'h');
        p = tNew ? ConsistentSampling.writeTValue(t, out, p) : copy(out, p, tStart, tEnd);
      }
      for (int i = 0; i < otExtraCount; i++) {
        if (pairs++ > 0) {
          out[p++] = ';';
        }
        p = copy(out, p, otExtras[2 * i], otExtras[2 * i + 1]);
      }
    }
    for (int i = 0; i < memberCount; i++) {
      if (p > 0) {
        out[p++] = ',';
      }
      p = copy(out, p, members[2 * i], members[2 * i + 1]);
    }
    return p;
  }

  private static int pairName(byte[] out, int p, int pairs, char a, char b) {
    if (pairs > 0) {
      out[p++] = ';';
    }
    out[p++] = (byte) a;
    out[p++] = (byte) b;
    out[p++] = ':';
    return p;
  }

  private int copy(byte[] out, int p, int start, int end) {
    for (int i = start; i < end; i++) {
      out[p++] = (byte) text.charAt(i); // validated: printable ASCII
    }
    return p;
  }

  private void resetOt() {
    r = -1;
    rNew = false;
    t = -1;
    tNew = false;
    otExtraCount = 0;
  }

  /** The {@code ot} member's value {@code [start, end)}. */
  private void parseOt(CharSequence s, int start, int end) {
    resetOt();
    if (end - start > MAX_OT_LENGTH) {
      fail(SIZE);
      return;
    }
    int p = start;
    while (p <= end) {
      int semi = indexOf(s, ';', p, end);
      int memberEnd = semi < 0 ? end : semi;
      int colon = indexOf(s, ':', p, memberEnd);
      if (colon <= p || !otKey(s, p, colon) || !otValue(s, colon + 1, memberEnd)) {
        fail(SYNTAX);
        resetOt();
        return;
      }
      int keyLength = colon - p;
      if (keyLength == 2 && s.charAt(p) == 'r' && s.charAt(p + 1) == 'v') {
        r = ConsistentSampling.parseRValue(s, colon + 1, memberEnd);
        rStart = colon + 1;
        rEnd = memberEnd;
        if (r < 0) {
          fail(R_VALUE);
        }
      } else if (keyLength == 2 && s.charAt(p) == 't' && s.charAt(p + 1) == 'h') {
        t = ConsistentSampling.parseTValue(s, colon + 1, memberEnd);
        tStart = colon + 1;
        tEnd = memberEnd;
        if (t < 0) {
          fail(T_VALUE);
        }
      } else {
        if (2 * otExtraCount + 2 > otExtras.length) {
          otExtras = java.util.Arrays.copyOf(otExtras, 2 * otExtras.length);
        }
        otExtras[2 * otExtraCount] = p;
        otExtras[2 * otExtraCount + 1] = memberEnd;
        otExtraCount++;
      }
      if (semi < 0) {
        break;
      }
      p = semi + 1;
    }
  }

  private void addMember(int start, int end) {
    if (2 * memberCount + 2 > members.length) {
      members = java.util.Arrays.copyOf(members, 2 * members.length);
    }
    members[2 * memberCount] = start;
    members[2 * memberCount + 1] = end;
    memberCount++;
  }

  private boolean fail(int code) {
    if (error == OK) {
      error = code;
    }
    return false;
  }

  private static int indexOf(CharSequence s, char c, int from, int to) {
    for (int i = from; i < to; i++) {
      if (s.charAt(i) == c) {
        return i;
      }
    }
    return -1;
  }

  private static boolean isOws(char c) {
    return c == ' ' || c == '\t';
  }

  private static boolean lcAlpha(char c) {
    return c >= 'a' && c <= 'z';
  }

  private static boolean lcDigit(char c) {
    return lcAlpha(c) || (c >= '0' && c <= '9');
  }

  private static boolean lcDigitPunct(char c) {
    return lcDigit(c) || c == '-' || c == '*' || c == '/' || c == '_';
  }

  /**
   * A W3C key: {@code lcalpha 0*255(lcalpha / DIGIT / "_" / "-" / "*" / "/")}, or {@code tenant@
   * system} with a tenant of 1 to 241 and a system of 1 to 14 such characters (the tenant may start
   * with a digit, the system may not).
   */
  private static boolean validKey(CharSequence s, int start, int end) {
    int at = indexOf(s, '@', start, end);
    if (at < 0) {
      return end - start >= 1
          && end - start <= 256
          && lcAlpha(s.charAt(start))
          && run(s, start + 1, end);
    }
    return at - start >= 1
        && at - start <= 241
        && lcDigit(s.charAt(start))
        && run(s, start + 1, at)
        && end - at - 1 >= 1
        && end - at - 1 <= 14
        && lcAlpha(s.charAt(at + 1))
        && run(s, at + 2, end);
  }

  private static boolean run(CharSequence s, int start, int end) {
    for (int i = start; i < end; i++) {
      if (!lcDigitPunct(s.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  /**
   * A W3C value: 1 to 256 printable ASCII characters but {@code ,} and {@code =}, not ending in a
   * space.
   */
  private static boolean validValue(CharSequence s, int start, int end) {
    if (end - start < 1 || end - start > 256 || s.charAt(end - 1) == ' ') {
      return false;
    }
    for (int i = start; i < end; i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c > 0x7e || c == ',' || c == '=') {
        return false;
      }
    }
    return true;
  }

  private static boolean otKey(CharSequence s, int start, int end) {
    if (end <= start || !lcAlpha(s.charAt(start))) {
      return false;
    }
    for (int i = start + 1; i < end; i++) {
      if (!lcDigit(s.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  private static boolean otValue(CharSequence s, int start, int end) {
    for (int i = start; i < end; i++) {
      char c = s.charAt(i);
      boolean ok =
          (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || c == '.'
              || c == '_'
              || c == '-';
      if (!ok) {
        return false;
      }
    }
    return true;
  }
}
