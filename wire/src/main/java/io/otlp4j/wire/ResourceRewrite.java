package io.otlp4j.wire;

import static io.otlp4j.wire.WireReader.LENGTH_DELIMITED;
import static io.otlp4j.wire.WireReader.pos;
import static io.otlp4j.wire.WireReader.readLength;
import static io.otlp4j.wire.WireReader.readTag;
import static io.otlp4j.wire.WireReader.skipValue;
import static io.otlp4j.wire.WireReader.value;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Inserts, updates, upserts and deletes resource attributes in every resource of an encoded OTLP export request, touching
 * only the bytes that change: each {@code Resource} message is re-encoded (with its {@code Resource*}
 * length prefix), and everything else (scopes, items, unknown fields at every level) is passed on as
 * retained slices of the input.
 *
 * <h2>Semantics</h2>
 * <ul>
 *   <li>{@code upsert(key, value)}: the first attribute with the key gets the new value, in place (its
 *       other fields, unknown ones included, kept);
 *       later attributes with the same key are removed; a resource without the key gets it appended
 *       (several in the order of their upserts). A Resource* without a resource gets one holding the
 *       upserted attributes.
 *   <li>{@code update(key, value)}: as upsert for a resource that has the key; a resource without it is
 *       left without it.
 *   <li>{@code insert(key, value)}: a resource without the key gets it appended (a Resource* without a
 *       resource gets one); a resource that has it keeps every attribute with the key as it was.
 *   <li>{@code delete(key)}: every attribute with the key is removed.
 *   <li>The {@code *FromAttribute(key, source)} forms take the value of the resource's first attribute
 *       named {@code source} (as the resource arrived, before any operation); a resource without {@code
 *       source} is left as it is for that operation (the Collector's {@code from_attribute}).
 *   <li>These are the OpenTelemetry Collector {@code resource} processor's actions. Operations on
 *       different keys are independent, so their order does not matter.
 *   <li>A later operation on a key replaces an earlier one on the same key in the builder.
 *   <li>A Resource* carrying its {@code resource} field more than once (protobuf merges them) gets one
 *       re-encoded resource holding the merged content, where the first one was.
 *   <li>The resource's other fields ({@code dropped_attributes_count}, entity refs, unknown fields) are
 *       kept byte for byte. {@code dropped_attributes_count} is not changed.
 * </ul>
 *
 * <h2>Buffer ownership</h2>
 * {@link #apply} only reads the input: its indexes and reference count are unchanged and the caller
 * keeps (and releases) it. The returned buffer is owned by the caller and must be released; it holds
 * retained slices of the input. On an exception nothing is left allocated.
 *
 * <p>Immutable and thread-safe; build once, apply to any number of requests from any threads.
 */
public final class ResourceRewrite {
  private static final int KEY_VALUE_TAG = (1 << 3) | LENGTH_DELIMITED;
  private static final int RESOURCE_TAG = (1 << 3) | LENGTH_DELIMITED;

  private static final byte UPSERT = 0;
  private static final byte UPDATE = 1;
  private static final byte INSERT = 2;
  private static final byte DELETE = 3;

  private final byte[][] keys;
  /** For each key: its operation. */
  private final byte[] kinds;
  /** For each key: the encoded KeyValue field (tag, length, content) to append, or null to delete. */
  private final byte[][] replacements;
  /** For each upserted key: the encoded value field (KeyValue field 2: tag, length, AnyValue). */
  private final byte[][] values;
  /** For each key: the attribute its value is copied from, or null. */
  private final byte[][] sources;
  /** For each key: its encoded key field (KeyValue field 1), for appending a copied value. */
  private final byte[][] keyFields;
  /** Whether some operation may add an attribute to a Resource* that has no resource. */
  private final boolean anyAppend;
  private final OtlpWalker walker;
  private final boolean validate;

  private ResourceRewrite(Builder builder) {
    int n = builder.operations.size();
    keys = new byte[n][];
    kinds = new byte[n];
    replacements = new byte[n][];
    values = new byte[n][];
    sources = new byte[n][];
    keyFields = new byte[n][];
    int i = 0;
    boolean appends = false;
    for (Map.Entry<String, byte[]> op : builder.operations.entrySet()) {
      keys[i] = op.getKey().getBytes(StandardCharsets.UTF_8);
      kinds[i] = builder.kinds.get(op.getKey());
      replacements[i] = op.getValue();
      values[i] = builder.values.get(op.getKey());
      String source = builder.sources.get(op.getKey());
      sources[i] = source == null ? null : source.getBytes(StandardCharsets.UTF_8);
      keyFields[i] = new ProtoWriter().string(1, op.getKey()).toByteArray();
      // A copied value needs a resource to copy from: it never creates one.
      appends |= (kinds[i] == UPSERT || kinds[i] == INSERT) && source == null;
      i++;
    }
    anyAppend = appends;
    walker = builder.walker;
    validate = builder.validate;
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Validates {@code request} and returns it with every resource rewritten; see the class comment for
   * ownership. New bytes are allocated from {@code request.alloc()}.
   *
   * @throws WireFormatException when the request is not valid; nothing is allocated then
   */
  public ByteBuf apply(Signal signal, ByteBuf request) {
    if (validate) {
      walker.walk(signal, request);
    }
    return new Run(request).run();
  }

  /**
   * Like {@link #apply(Signal, ByteBuf)} for a request that was walked already ({@code walked} is its
   * summary, or that of the request it was rewritten from): it is not walked again, whatever the
   * validation setting. Ownership as for {@link #apply(Signal, ByteBuf)}.
   *
   * @throws WireFormatException when the request is not valid after all; nothing is allocated then
   */
  public ByteBuf apply(Signal signal, ByteBuf request, WalkSummary walked) {
    java.util.Objects.requireNonNull(walked, "walked");
    return new Run(request).run();
  }

  /** One application: the pieces of the output, in order, as (source, start, length) triples. */
  private final class Run {
    private static final int FROM_INPUT = 0;
    private static final int FROM_OUT = 1;

    private final ByteBuf input;
    private final ByteBuffer b;
    private final int base;
    private final ByteBuf out;
    private int[] pieces = new int[3 * 16];
    private int pieceCount;
    /** Per resource field of the current Resource*: tag position, content start, end. */
    private int[] occurrences = new int[12];
    private final boolean[] written = new boolean[keys.length];
    /** Per operation with a source, in the current Resource*: where the source's value field is, or -1. */
    private final int[] sourceStart = new int[keys.length];
    private final int[] sourceEnd = new int[keys.length];

    Run(ByteBuf input) {
      this.input = input;
      this.b = WireReader.view(input);
      this.base = b.position();
      this.out = input.alloc().heapBuffer(256);
    }

    ByteBuf run() {
      ByteBufAllocator alloc = input.alloc();
      CompositeByteBuf result = alloc.compositeBuffer(Integer.MAX_VALUE);
      try {
        int end = b.limit();
        int p = base;
        int runStart = p;
        while (p < end) {
          int tagPos = p;
          long r = readTag(b, p, end, base);
          p = pos(r);
          int tag = value(r);
          p = skipValue(b, tag & 7, tagPos, p, end, base);
          if (tag == RESOURCE_TAG) {
            piece(FROM_INPUT, runStart, tagPos - runStart);
            long lr = readLength(b, pos(r), end, base);
            entry(pos(lr), p);
            runStart = p;
          }
        }
        piece(FROM_INPUT, runStart, end - runStart);
        int readerIndex = input.readerIndex();
        for (int i = 0; i < pieceCount; i++) {
          int source = pieces[3 * i];
          int start = pieces[3 * i + 1];
          int length = pieces[3 * i + 2];
          result.addComponent(true, source == FROM_INPUT
              ? input.retainedSlice(readerIndex + start - base, length)
              : out.retainedSlice(start, length));
        }
        return result;
      } catch (RuntimeException | Error e) {
        result.release();
        throw e;
      } finally {
        out.release();
      }
    }

    private void piece(int source, int start, int length) {
      if (length == 0) {
        return;
      }
      int at = 3 * pieceCount;
      if (at + 3 > pieces.length) {
        pieces = Arrays.copyOf(pieces, pieces.length * 2);
      }
      pieces[at] = source;
      pieces[at + 1] = start;
      pieces[at + 2] = length;
      pieceCount++;
    }

    /** Rewrites one Resource* whose content is {@code [start, end)}. */
    private void entry(int start, int end) {
      // Where the resource field(s) are: ranges of their content.
      int count = 0;
      int p = start;
      while (p < end) {
        int tagPos = p;
        long r = readTag(b, p, end, base);
        p = pos(r);
        int tag = value(r);
        p = skipValue(b, tag & 7, tagPos, p, end, base);
        if (tag == RESOURCE_TAG) {
          long lr = readLength(b, pos(r), end, base);
          if (3 * count + 3 > occurrences.length) {
            occurrences = Arrays.copyOf(occurrences, occurrences.length * 2);
          }
          occurrences[3 * count] = tagPos;
          occurrences[3 * count + 1] = pos(lr);
          occurrences[3 * count + 2] = p;
          count++;
        }
      }
      if (count == 0 && !anyAppend) {
        int prefixStart = out.writerIndex();
        out.writeByte(RESOURCE_TAG);
        RequestSplitter.writeVarint(out, end - start);
        piece(FROM_OUT, prefixStart, out.writerIndex() - prefixStart);
        piece(FROM_INPUT, start, end - start);
        return;
      }
      // The new resource content, then its field prefix, then the entry prefix, all into `out`.
      int contentStart = out.writerIndex();
      Arrays.fill(written, false);
      findSources(count);
      for (int i = 0; i < count; i++) {
        resourceContent(occurrences[3 * i + 1], occurrences[3 * i + 2]);
      }
      for (int k = 0; k < keys.length; k++) {
        if ((kinds[k] == UPSERT || kinds[k] == INSERT) && !written[k]) {
          if (sources[k] == null) {
            out.writeBytes(replacements[k]);
          } else if (sourceStart[k] >= 0) {
            int valueLength = sourceEnd[k] - sourceStart[k];
            out.writeByte(KEY_VALUE_TAG);
            RequestSplitter.writeVarint(out, keyFields[k].length + valueLength);
            out.writeBytes(keyFields[k]);
            copy(sourceStart[k], sourceEnd[k]);
          }
        }
      }
      int contentLength = out.writerIndex() - contentStart;
      int fieldStart = out.writerIndex();
      out.writeByte(RESOURCE_TAG);
      RequestSplitter.writeVarint(out, contentLength);
      int fieldPrefixLength = out.writerIndex() - fieldStart;
      // Other fields of the Resource*, kept as slices: everything but the resource occurrences.
      int kept = end - start;
      for (int i = 0; i < count; i++) {
        kept -= occurrences[3 * i + 2] - occurrences[3 * i];
      }
      int entryStart = out.writerIndex();
      out.writeByte(RESOURCE_TAG);
      RequestSplitter.writeVarint(out, kept + fieldPrefixLength + contentLength);
      piece(FROM_OUT, entryStart, out.writerIndex() - entryStart);
      int insertAt = count == 0 ? start : occurrences[0];
      piece(FROM_INPUT, start, insertAt - start);
      piece(FROM_OUT, fieldStart, fieldPrefixLength);
      piece(FROM_OUT, contentStart, contentLength);
      // The rest, skipping further resource occurrences.
      p = count == 0 ? start : occurrences[2];
      int runStart = p;
      while (p < end) {
        int tagPos = p;
        long r = readTag(b, p, end, base);
        p = pos(r);
        int tag = value(r);
        p = skipValue(b, tag & 7, tagPos, p, end, base);
        if (tag == RESOURCE_TAG) {
          piece(FROM_INPUT, runStart, tagPos - runStart);
          runStart = p;
        }
      }
      piece(FROM_INPUT, runStart, end - runStart);
    }

    /** Copies a Resource's fields into `out`, applying the operations to its attributes. */
    private void resourceContent(int start, int end) {
      int p = start;
      while (p < end) {
        int tagPos = p;
        long r = readTag(b, p, end, base);
        p = pos(r);
        int tag = value(r);
        p = skipValue(b, tag & 7, tagPos, p, end, base);
        int op = -1;
        if (tag == KEY_VALUE_TAG) {
          long lr = readLength(b, pos(r), end, base);
          op = operationFor(pos(lr), p);
        }
        if (op < 0 || (sources[op] != null && sourceStart[op] < 0)) {
          copy(tagPos, p); // no operation, or one whose source this resource lacks
        } else if (kinds[op] == INSERT) {
          // Present already: kept as it is, every copy of it; `written` means "nothing to append".
          copy(tagPos, p);
          written[op] = true;
        } else if (kinds[op] != DELETE && !written[op]) {
          long lr = readLength(b, pos(r), end, base);
          if (sources[op] == null) {
            replaceValue(pos(lr), p, values[op], 0, 0);
          } else {
            replaceValue(pos(lr), p, null, sourceStart[op], sourceEnd[op]);
          }
          written[op] = true;
        }
      }
    }

    /**
     * Writes the KeyValue whose content is {@code [start, end)} with its value replaced: its other fields
     * (the key, unknown fields) are kept as they are.
     */
    private void replaceValue(int start, int end, byte[] valueField, int valueStart, int valueEnd) {
      int valueLength = valueField != null ? valueField.length : valueEnd - valueStart;
      int kept = 0;
      for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
          out.writeByte(KEY_VALUE_TAG);
          RequestSplitter.writeVarint(out, kept + valueLength);
        }
        int p = start;
        while (p < end) {
          int tagPos = p;
          long r = readTag(b, p, end, base);
          p = pos(r);
          int tag = value(r);
          p = skipValue(b, tag & 7, tagPos, p, end, base);
          if (tag != ((2 << 3) | LENGTH_DELIMITED)) {
            if (pass == 0) {
              kept += p - tagPos;
            } else {
              copy(tagPos, p);
            }
          }
        }
      }
      if (valueField != null) {
        out.writeBytes(valueField);
      } else {
        copy(valueStart, valueEnd);
      }
    }

    /**
     * For each operation with a source: the value field (tag, length, AnyValue; empty when the
     * attribute has none) of the first attribute named by it in this entry's resource, or -1.
     */
    private void findSources(int count) {
      for (int k = 0; k < keys.length; k++) {
        sourceStart[k] = -1;
        if (sources[k] == null) {
          continue;
        }
        for (int i = 0; i < count && sourceStart[k] < 0; i++) {
          int p = occurrences[3 * i + 1];
          int end = occurrences[3 * i + 2];
          while (p < end && sourceStart[k] < 0) {
            int tagPos = p;
            long r = readTag(b, p, end, base);
            p = pos(r);
            int tag = value(r);
            p = skipValue(b, tag & 7, tagPos, p, end, base);
            if (tag == KEY_VALUE_TAG) {
              long lr = readLength(b, pos(r), end, base);
              keyValueMatching(pos(lr), p, sources[k], k);
            }
          }
        }
      }
    }

    /** If the KeyValue {@code [start, end)} is named {@code key}: records its (last) value field for {@code k}. */
    private void keyValueMatching(int start, int end, byte[] key, int k) {
      int keyStart = start;
      int keyLength = 0;
      int valueStart = end;
      int valueEnd = end;
      int p = start;
      while (p < end) {
        int tagPos = p;
        long r = readTag(b, p, end, base);
        p = pos(r);
        int tag = value(r);
        p = skipValue(b, tag & 7, tagPos, p, end, base);
        if (tag == ((1 << 3) | LENGTH_DELIMITED)) {
          long lr = readLength(b, pos(r), end, base);
          keyStart = pos(lr);
          keyLength = value(lr);
        } else if (tag == ((2 << 3) | LENGTH_DELIMITED)) {
          // Protobuf merges repeated message fields; the relay's inputs carry one value, the last kept.
          valueStart = tagPos;
          valueEnd = p;
        }
      }
      if (WireReader.bytesEqual(b, keyStart, keyLength, key)) {
        sourceStart[k] = valueStart;
        sourceEnd[k] = valueEnd;
      }
    }

    private void copy(int start, int end) {
      out.writeBytes(input, input.readerIndex() + start - base, end - start);
    }

    /** The index of the operation on this KeyValue's key (the last key field wins), or -1. */
    private int operationFor(int start, int end) {
      int keyStart = start;
      int keyLength = 0;
      int p = start;
      while (p < end) {
        int tagPos = p;
        long r = readTag(b, p, end, base);
        p = pos(r);
        int tag = value(r);
        p = skipValue(b, tag & 7, tagPos, p, end, base);
        if (tag == ((1 << 3) | LENGTH_DELIMITED)) {
          long lr = readLength(b, pos(r), end, base);
          keyStart = pos(lr);
          keyLength = value(lr);
        }
      }
      for (int k = 0; k < keys.length; k++) {
        if (WireReader.bytesEqual(b, keyStart, keyLength, keys[k])) {
          return k;
        }
      }
      return -1;
    }
  }

  /** Configures a {@link ResourceRewrite}. Not thread-safe; the rewrite it builds is. */
  public static final class Builder {
    private final Map<String, byte[]> operations = new LinkedHashMap<>();
    private final Map<String, byte[]> values = new HashMap<>();
    private final Map<String, Byte> kinds = new HashMap<>();
    private final Map<String, String> sources = new HashMap<>();
    private OtlpWalker walker = OtlpWalker.create();
    private boolean validate = true;

    private Builder() {}

    /**
     * Whether {@link #apply} walks (validates) each request first (default true). Turn it off only for
     * requests this process has already walked: the rewrite itself reads the fields it passes within
     * bounds and throws {@link WireFormatException} where they are broken, but does not look inside
     * scopes and items.
     */
    public Builder validation(boolean validate) {
      this.validate = validate;
      return this;
    }

    /** Sets the attribute {@code key} to the string {@code value}. */
    public Builder upsert(String key, String value) {
      return put(key, UPSERT, string(value));
    }

    /** Sets the attribute {@code key} to the boolean {@code value}. */
    public Builder upsert(String key, boolean value) {
      return put(key, UPSERT, new ProtoWriter().bool(2, value));
    }

    /** Sets the attribute {@code key} to the integer {@code value}. */
    public Builder upsert(String key, long value) {
      return put(key, UPSERT, new ProtoWriter().int64(3, value));
    }

    /** Sets the attribute {@code key} to the double {@code value}. */
    public Builder upsert(String key, double value) {
      return put(key, UPSERT, new ProtoWriter().doubleField(4, value));
    }

    /** Changes the attribute {@code key} to the string {@code value} where a resource has it. */
    public Builder update(String key, String value) {
      return put(key, UPDATE, string(value));
    }

    /** Changes the attribute {@code key} to the boolean {@code value} where a resource has it. */
    public Builder update(String key, boolean value) {
      return put(key, UPDATE, new ProtoWriter().bool(2, value));
    }

    /** Changes the attribute {@code key} to the integer {@code value} where a resource has it. */
    public Builder update(String key, long value) {
      return put(key, UPDATE, new ProtoWriter().int64(3, value));
    }

    /** Changes the attribute {@code key} to the double {@code value} where a resource has it. */
    public Builder update(String key, double value) {
      return put(key, UPDATE, new ProtoWriter().doubleField(4, value));
    }

    /** Adds the attribute {@code key} with the string {@code value} where a resource lacks it. */
    public Builder insert(String key, String value) {
      return put(key, INSERT, string(value));
    }

    /** Adds the attribute {@code key} with the boolean {@code value} where a resource lacks it. */
    public Builder insert(String key, boolean value) {
      return put(key, INSERT, new ProtoWriter().bool(2, value));
    }

    /** Adds the attribute {@code key} with the integer {@code value} where a resource lacks it. */
    public Builder insert(String key, long value) {
      return put(key, INSERT, new ProtoWriter().int64(3, value));
    }

    /** Adds the attribute {@code key} with the double {@code value} where a resource lacks it. */
    public Builder insert(String key, double value) {
      return put(key, INSERT, new ProtoWriter().doubleField(4, value));
    }

    /** Removes every attribute named {@code key}. */
    public Builder delete(String key) {
      requireKey(key);
      operations.remove(key);
      operations.put(key, null);
      kinds.put(key, DELETE);
      sources.remove(key);
      return this;
    }

    /** Upserts {@code key} with the value of the resource's attribute {@code source}, where it has one. */
    public Builder upsertFromAttribute(String key, String source) {
      return copy(key, UPSERT, source);
    }

    /** Updates {@code key} with the value of the resource's attribute {@code source}, where it has both. */
    public Builder updateFromAttribute(String key, String source) {
      return copy(key, UPDATE, source);
    }

    /** Inserts {@code key} with the value of the resource's attribute {@code source}, where it has one. */
    public Builder insertFromAttribute(String key, String source) {
      return copy(key, INSERT, source);
    }

    private Builder copy(String key, byte kind, String source) {
      requireKey(key);
      requireKey(source);
      operations.remove(key);
      operations.put(key, new byte[0]);
      kinds.put(key, kind);
      sources.put(key, source);
      values.remove(key);
      return this;
    }

    private static ProtoWriter string(String value) {
      requireNonNull(value, "value");
      return new ProtoWriter().string(1, value);
    }

    /** The walker that validates each request first (default {@link OtlpWalker#create()}). */
    public Builder walker(OtlpWalker walker) {
      requireNonNull(walker, "walker");
      this.walker = walker;
      return this;
    }

    public ResourceRewrite build() {
      return new ResourceRewrite(this);
    }

    private Builder put(String key, byte kind, ProtoWriter anyValue) {
      requireKey(key);
      kinds.put(key, kind);
      sources.remove(key);
      byte[] value = anyValue.toByteArray();
      byte[] keyValue = new ProtoWriter().string(1, key).bytes(2, value).toByteArray();
      byte[] field = new ProtoWriter().bytes(1, keyValue).toByteArray();
      operations.remove(key);
      operations.put(key, field);
      values.put(key, new ProtoWriter().bytes(2, value).toByteArray());
      return this;
    }

    private static void requireKey(String key) {
      requireNonNull(key, "key");
      if (key.isEmpty()) {
        throw new IllegalArgumentException("key must not be empty");
      }
    }

    private static void requireNonNull(Object value, String name) {
      if (value == null) {
        throw new IllegalArgumentException(name + " must not be null");
      }
    }
  }

  @Override
  public String toString() {
    List<String> ops = new ArrayList<>();
    for (int k = 0; k < keys.length; k++) {
      String kind = switch (kinds[k]) {
        case UPSERT -> "upsert ";
        case UPDATE -> "update ";
        case INSERT -> "insert ";
        default -> "delete ";
      };
      ops.add(kind + new String(keys[k], StandardCharsets.UTF_8));
    }
    return "ResourceRewrite" + ops;
  }
}
