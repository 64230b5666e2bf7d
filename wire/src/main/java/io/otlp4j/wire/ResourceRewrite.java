package io.otlp4j.wire;

import static io.otlp4j.wire.WireReader.LENGTH_DELIMITED;
import static io.otlp4j.wire.WireReader.value;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Inserts, updates, upserts and deletes resource attributes in every resource of an encoded OTLP
 * export request, touching only the bytes that change: each {@code Resource} message is re-encoded
 * (with its {@code Resource*} length prefix), and everything else (scopes, items, unknown fields at
 * every level) is passed on as retained slices of the input.
 *
 * <h2>Semantics</h2>
 *
 * <ul>
 *   <li>{@code upsert(key, value)}: the first attribute with the key gets the new value, in place
 *       (its other fields, unknown ones included, kept); later attributes with the same key are
 *       removed; a resource without the key gets it appended (several in the order of their
 *       upserts). A Resource* without a resource gets one holding the upserted attributes.
 *   <li>{@code update(key, value)}: as upsert for a resource that has the key; a resource without
 *       it is left without it.
 *   <li>{@code insert(key, value)}: a resource without the key gets it appended (a Resource*
 *       without a resource gets one); a resource that has it keeps every attribute with the key as
 *       it was.
 *   <li>{@code delete(key)}: every attribute with the key is removed.
 *   <li>The {@code *FromAttribute(key, source)} forms take the value of the resource's first
 *       attribute named {@code source} (as the resource arrived, before any operation); a resource
 *       without {@code source} is left as it is for that operation (the Collector's {@code
 *       from_attribute}).
 *   <li>These are the OpenTelemetry Collector {@code resource} processor's actions. Operations on
 *       different keys are independent, so their order does not matter.
 *   <li>A later operation on a key replaces an earlier one on the same key in the builder.
 *   <li>A Resource* carrying its {@code resource} field more than once (protobuf merges them) gets
 *       one re-encoded resource holding the merged content, where the first one was.
 *   <li>The resource's other fields ({@code dropped_attributes_count}, entity refs, unknown fields)
 *       are kept byte for byte. {@code dropped_attributes_count} is not changed.
 * </ul>
 *
 * <h2>Buffer ownership</h2>
 *
 * {@link #apply} only reads the input: its indexes and reference count are unchanged and the caller
 * keeps (and releases) it. The returned buffer is owned by the caller and must be released; it
 * holds retained slices of the input. On an exception nothing is left allocated.
 *
 * <p>Immutable and thread-safe; build once, apply to any number of requests from any threads.
 */
public final class ResourceRewrite {
  static final int KEY_VALUE_TAG = (1 << 3) | LENGTH_DELIMITED;
  static final int RESOURCE_TAG = (1 << 3) | LENGTH_DELIMITED;

  static final byte UPSERT = 0;
  static final byte UPDATE = 1;
  static final byte INSERT = 2;
  static final byte DELETE = 3;

  final byte[][] keys;

  /** For each key: its operation. */
  final byte[] kinds;

  /**
   * For each key: the encoded KeyValue field (tag, length, content) to append, or null to delete.
   */
  final byte[][] replacements;

  /** For each upserted key: the encoded value field (KeyValue field 2: tag, length, AnyValue). */
  final byte[][] values;

  /** For each key: the attribute its value is copied from, or null. */
  final byte[][] sources;

  /** For each key: its encoded key field (KeyValue field 1), for appending a copied value. */
  final byte[][] keyFields;

  /** Whether some operation may add an attribute to a Resource* that has no resource. */
  final boolean anyAppend;

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
   * Validates {@code request} and returns it with every resource rewritten; see the class comment
   * for ownership. New bytes are allocated from {@code request.alloc()}.
   *
   * @throws WireFormatException when the request is not valid; nothing is allocated then
   */
  public ByteBuf apply(Signal signal, ByteBuf request) {
    if (validate) {
      walker.walk(signal, request);
    }
    return new ResourceRewriteRun(this, request).run();
  }

  /**
   * Like {@link #apply(Signal, ByteBuf)} for a request that was walked already ({@code walked} is
   * its summary, or that of the request it was rewritten from): it is not walked again, whatever
   * the validation setting. Ownership as for {@link #apply(Signal, ByteBuf)}.
   *
   * @throws WireFormatException when the request is not valid after all; nothing is allocated then
   */
  public ByteBuf apply(Signal signal, ByteBuf request, WalkSummary walked) {
    java.util.Objects.requireNonNull(walked, "walked");
    return new ResourceRewriteRun(this, request).run();
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
     * Whether {@link #apply} walks (validates) each request first (default true). Turn it off only
     * for requests this process has already walked: the rewrite itself reads the fields it passes
     * within bounds and throws {@link WireFormatException} where they are broken, but does not look
     * inside scopes and items.
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

    /**
     * Upserts {@code key} with the value of the resource's attribute {@code source}, where it has
     * one.
     */
    public Builder upsertFromAttribute(String key, String source) {
      return copy(key, UPSERT, source);
    }

    /**
     * Updates {@code key} with the value of the resource's attribute {@code source}, where it has
     * both.
     */
    public Builder updateFromAttribute(String key, String source) {
      return copy(key, UPDATE, source);
    }

    /**
     * Inserts {@code key} with the value of the resource's attribute {@code source}, where it has
     * one.
     */
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
      String kind =
          switch (kinds[k]) {
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
