package io.otlp4j.wire;

import static io.otlp4j.wire.WireReader.pos;
import static io.otlp4j.wire.WireReader.readLength;
import static io.otlp4j.wire.WireReader.readTag;
import static io.otlp4j.wire.WireReader.skipValue;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The attribute list of the element an {@link EditPolicy} is looking at, as an editable list:
 * obtained from {@link ElementView#attributes()}, it starts as the element's attributes in their
 * order, and whatever the policy changes in it becomes the element's attribute list in the edited
 * request.
 *
 * <p>The attributes that arrived are held as positions in the input, not copies: kept ones go into
 * the output as slices of the input, and only added or set ones ({@link EncodedAttribute}s, encoded
 * once beforehand) are copied. Editing allocates nothing once the list has grown to the largest
 * element's size. Where a key occurs more than once, lookups find the first.
 *
 * <p>Valid only during the callback that obtained it. Not thread-safe.
 */
public final class AttributeList {
  private ByteBuffer input;
  private int base;
  private int size;
  private boolean modified;
  private ByteBuffer[] buffers = new ByteBuffer[8];

  /** For an added attribute: it; for one from the input: null. */
  private EncodedAttribute[] added = new EncodedAttribute[8];

  /**
   * Where the field (tag included) starts in the input, or -1 for an added attribute (no tag yet).
   */
  private int[] tagPos = new int[8];

  private int[] start = new int[8];
  private int[] end = new int[8];

  /**
   * Where each attribute's key (its last key field, as protobuf reads it) starts, or -1 without
   * one.
   */
  private int[] keyStart = new int[8];

  private int[] keyLength = new int[8];

  /**
   * Where the attribute fields that arrived lie when {@link #load} found them as one run with no
   * other field between them, in one segment: {@code [runStart, runEnd)}; {@code runStart} is -1
   * when there were none, and {@code oneRun} false when they were not one run.
   */
  private int runStart;

  private int runEnd;
  private boolean oneRun;

  private final TextView key = new TextView();
  private final TextView probe = new TextView();
  private final ValueView value = new ValueView();

  AttributeList() {}

  /** Loads the element's attributes: every {@code field} (length-delimited) in the segments. */
  void load(ByteBuffer b, int base, int[] segments, int segmentCount, int field) {
    this.input = b;
    this.base = base;
    this.size = 0;
    this.modified = false;
    int tag = (field << 3) | 2;
    runStart = -1;
    runEnd = -1;
    oneRun = segmentCount <= 1;
    for (int s = 0; s < segmentCount; s++) {
      int p = segments[2 * s];
      int segmentEnd = segments[2 * s + 1];
      while (p < segmentEnd) {
        int fieldStart = p;
        long r = readTag(b, p, segmentEnd, base);
        p = pos(r);
        int t = WireReader.value(r);
        int valueStart = p;
        p = skipValue(b, t & 7, fieldStart, p, segmentEnd, base);
        if (t == tag) {
          long lr = readLength(b, valueStart, segmentEnd, base);
          append(b, fieldStart, pos(lr), p);
          if (runStart < 0) {
            runStart = fieldStart;
          } else if (runEnd != fieldStart) {
            oneRun = false;
          }
          runEnd = p;
        }
      }
    }
  }

  /** Whether the policy changed the list. */
  public boolean isModified() {
    return modified;
  }

  public int size() {
    return size;
  }

  /** The key of attribute {@code i} (a view, valid until the next call). */
  public TextView key(int i) {
    check(i);
    return keyOf(i, key);
  }

  /** The value of attribute {@code i} (a view, valid until the next call). */
  public ValueView value(int i) {
    check(i);
    ByteBuffer b = buffers[i];
    int p = start[i];
    int e = end[i];
    int at = -1;
    int atEnd = -1;
    int errorBase = isInput(b) ? base : 0;
    while (p < e) {
      int fieldStart = p;
      long r = readTag(b, p, e, errorBase);
      p = pos(r);
      int t = WireReader.value(r);
      int valueStart = p;
      p = skipValue(b, t & 7, fieldStart, p, e, errorBase);
      if (t == ((2 << 3) | 2)) {
        long lr = readLength(b, valueStart, e, errorBase);
        at = pos(lr);
        atEnd = p;
      }
    }
    return at < 0 ? value.set(b, e, e, errorBase) : value.set(b, at, atEnd, errorBase);
  }

  /** The index of the first attribute whose key is {@code keyUtf8}, or -1. */
  public int indexOf(byte[] keyUtf8) {
    for (int i = 0; i < size; i++) {
      if (keyIs(i, keyUtf8)) {
        return i;
      }
    }
    return -1;
  }

  /**
   * The index of the first attribute whose key is {@code key}, or -1; allocates nothing for ASCII
   * keys.
   */
  public int indexOf(CharSequence key) {
    for (int i = 0; i < size; i++) {
      if (keyOf(i, probe).contentEquals(key)) {
        return i;
      }
    }
    return -1;
  }

  /** Removes attribute {@code i}; later ones move down by one. */
  public void remove(int i) {
    check(i);
    int tail = size - i - 1;
    System.arraycopy(buffers, i + 1, buffers, i, tail);
    System.arraycopy(added, i + 1, added, i, tail);
    System.arraycopy(tagPos, i + 1, tagPos, i, tail);
    System.arraycopy(start, i + 1, start, i, tail);
    System.arraycopy(end, i + 1, end, i, tail);
    System.arraycopy(keyStart, i + 1, keyStart, i, tail);
    System.arraycopy(keyLength, i + 1, keyLength, i, tail);
    buffers[--size] = null;
    added[size] = null;
    modified = true;
  }

  /** Removes every attribute whose key is {@code keyUtf8}; returns how many. */
  public int removeAll(byte[] keyUtf8) {
    int removed = 0;
    for (int i = size - 1; i >= 0; i--) {
      if (keyIs(i, keyUtf8)) {
        remove(i);
        removed++;
      }
    }
    return removed;
  }

  /** Removes every attribute whose key is {@code key}; returns how many. */
  public int removeAll(CharSequence key) {
    int removed = 0;
    for (int i = size - 1; i >= 0; i--) {
      if (keyOf(i, probe).contentEquals(key)) {
        remove(i);
        removed++;
      }
    }
    return removed;
  }

  /** Appends {@code attribute} (whether or not its key is there already). */
  public void add(EncodedAttribute attribute) {
    append(attribute.buffer, -1, 0, attribute.keyValueBytes().length);
    added[size - 1] = attribute;
    modified = true;
  }

  /** Replaces attribute {@code i} with {@code attribute}. */
  public void set(int i, EncodedAttribute attribute) {
    check(i);
    buffers[i] = attribute.buffer;
    added[i] = attribute;
    tagPos[i] = -1;
    start[i] = 0;
    end[i] = attribute.keyValueBytes().length;
    findKey(i);
    modified = true;
  }

  /**
   * Sets the first attribute with {@code attribute}'s key to it, or appends it (the Collector's
   * upsert).
   */
  public void upsert(EncodedAttribute attribute) {
    int i = indexOf(attribute.keyBytes());
    if (i < 0) {
      add(attribute);
    } else {
      set(i, attribute);
    }
  }

  /** Appends {@code attribute} where its key is absent (the Collector's insert). */
  public void insert(EncodedAttribute attribute) {
    if (indexOf(attribute.keyBytes()) < 0) {
      add(attribute);
    }
  }

  /**
   * Sets the first attribute with {@code attribute}'s key to it, where there is one (the
   * Collector's update).
   */
  public void update(EncodedAttribute attribute) {
    int i = indexOf(attribute.keyBytes());
    if (i >= 0) {
      set(i, attribute);
    }
  }

  /** Removes every attribute. */
  public void clear() {
    if (size > 0) {
      Arrays.fill(buffers, 0, size, null);
      Arrays.fill(added, 0, size, null);
      size = 0;
      modified = true;
    }
  }

  // ---- for RequestEditor

  /**
   * Whether the attribute fields the element arrived with were one run in one segment (or there
   * were none): then the element is its bytes before {@link #runStart}, the attributes, and its
   * bytes from {@link #runEnd}.
   */
  boolean arrivedAsOneRun() {
    return oneRun;
  }

  /** Where the run of attribute fields began (see {@link #arrivedAsOneRun}), or -1 for none. */
  int runStart() {
    return runStart;
  }

  /** Where the run of attribute fields ended (see {@link #arrivedAsOneRun}). */
  int runEnd() {
    return runEnd;
  }

  boolean fromInput(int i) {
    return tagPos[i] >= 0;
  }

  int fieldStart(int i) {
    return tagPos[i];
  }

  int contentStart(int i) {
    return start[i];
  }

  int end(int i) {
    return end[i];
  }

  /** The added attribute at {@code i} (null for one from the input). */
  EncodedAttribute added(int i) {
    return added[i];
  }

  /** Forgets the buffers it points into (so that no request stays reachable from a reused list). */
  void reset() {
    Arrays.fill(buffers, 0, size, null);
    Arrays.fill(added, 0, size, null);
    size = 0;
    modified = false;
    input = null;
  }

  private TextView keyOf(int i, TextView into) {
    return keyStart[i] < 0 ? into.absent() : into.set(buffers[i], keyStart[i], keyLength[i]);
  }

  private boolean keyIs(int i, byte[] keyUtf8) {
    return keyStart[i] < 0
        ? keyUtf8.length == 0
        : WireReader.bytesEqual(buffers[i], keyStart[i], keyLength[i], keyUtf8);
  }

  /**
   * Whether {@code b} is the input buffer itself (identity, not content: an added attribute's bytes
   * may equal the input's and still have no offset in the input).
   */
  @SuppressWarnings("ReferenceEquality") // identity is the question asked
  private boolean isInput(ByteBuffer b) {
    return b == input;
  }

  /** Finds attribute {@code i}'s key, once, when it joins the list. */
  private void findKey(int i) {
    ByteBuffer b = buffers[i];
    int p = start[i];
    int e = end[i];
    long simple = WireReader.simpleKey(b, p, e);
    if (simple >= 0) { // the usual layout, read in a few bytes
      keyStart[i] = pos(simple);
      keyLength[i] = WireReader.value(simple);
      return;
    }
    int errorBase = isInput(b) ? base : 0;
    keyStart[i] = -1;
    keyLength[i] = 0;
    while (p < e) {
      int fieldStart = p;
      long r = readTag(b, p, e, errorBase);
      p = pos(r);
      int t = WireReader.value(r);
      int valueStart = p;
      p = skipValue(b, t & 7, fieldStart, p, e, errorBase);
      if (t == ((1 << 3) | 2)) {
        long lr = readLength(b, valueStart, e, errorBase);
        keyStart[i] = pos(lr);
        keyLength[i] = WireReader.value(lr);
      }
    }
  }

  private void append(ByteBuffer b, int fieldStart, int contentStart, int contentEnd) {
    if (size == buffers.length) {
      int n = size * 2;
      buffers = Arrays.copyOf(buffers, n);
      added = Arrays.copyOf(added, n);
      tagPos = Arrays.copyOf(tagPos, n);
      start = Arrays.copyOf(start, n);
      end = Arrays.copyOf(end, n);
      keyStart = Arrays.copyOf(keyStart, n);
      keyLength = Arrays.copyOf(keyLength, n);
    }
    buffers[size] = b;
    added[size] = null;
    tagPos[size] = fieldStart;
    start[size] = contentStart;
    end[size] = contentEnd;
    findKey(size);
    size++;
  }

  private void check(int i) {
    if (i < 0 || i >= size) {
      throw new IndexOutOfBoundsException("attribute " + i + " of " + size);
    }
  }
}
