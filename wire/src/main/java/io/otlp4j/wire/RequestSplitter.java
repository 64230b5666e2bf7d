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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Cuts one encoded OTLP export request into parts of at most {@link Builder#maxItems(int) N items}
 * and at most {@link Builder#maxBytes(int) B bytes} each, at item boundaries, without decoding or
 * re-encoding the items.
 *
 * <h2>How</h2>
 *
 * Items are spans, log records and, for metrics, data points. Each part is a complete request: the
 * enclosing {@code Resource*} and {@code Scope*} messages are written again for every part they
 * reach, with all their other fields copied byte for byte (the resource, the scope, {@code
 * schema_url}, unknown fields). A metric whose data points fall into several parts becomes several
 * {@code Metric} messages, each with the metric's own fields (name, description, unit, metadata,
 * unknown fields) and its data message's fields (temporality, monotonicity, unknown fields) copied
 * again; a data member that a later member of the metric's {@code data} oneof replaces is dropped,
 * as protobuf drops it. Items themselves are retained slices of the input (consecutive items one
 * slice), and the copied header bytes and new length prefixes sit in one small buffer per part;
 * each part is a {@link CompositeByteBuf} of those. Request-level unknown fields go into the part
 * that is current when they are met, empty {@code Resource*}, {@code Scope*} and metrics into the
 * current part too. Concatenating the parts gives a request that protobuf-java parses to the
 * original items, in the original order.
 *
 * <p>A part holds at least one item: an item that is larger than {@code B} on its own (with its
 * headers) goes alone into a part larger than {@code B}. A request within both limits comes back
 * whole, as one retained slice.
 *
 * <h2>Buffer ownership</h2>
 *
 * {@link #split} only reads the input: its indexes and reference count are unchanged and the caller
 * keeps (and releases) it. Every returned part is owned by the caller, who must release it; parts
 * hold retained slices of the input, so the input's memory lives until the last part is released.
 * On an exception nothing is left allocated.
 *
 * <p>Immutable and thread-safe.
 */
public final class RequestSplitter {
  /** Default item limit per part: the Collector's default {@code send_batch_size}. */
  public static final int DEFAULT_MAX_ITEMS = 8192;

  /** Default byte limit per part: gRPC's default maximum message size, 4 MiB. */
  public static final int DEFAULT_MAX_BYTES = 4 * 1024 * 1024;

  private final int maxItems;
  private final int maxBytes;
  private final OtlpWalker walker;
  private final boolean validate;

  private RequestSplitter(Builder builder) {
    this.maxItems = builder.maxItems;
    this.maxBytes = builder.maxBytes;
    this.walker = builder.walker;
    this.validate = builder.validate;
  }

  public static Builder builder() {
    return new Builder();
  }

  public int maxItems() {
    return maxItems;
  }

  public int maxBytes() {
    return maxBytes;
  }

  /**
   * Validates {@code request} with the configured walker and cuts it into parts; see the class
   * comment for ownership. The parts use {@code request.alloc()} for their small header buffers.
   *
   * @return at least one part, in order
   * @throws WireFormatException when the request is not valid; nothing is allocated then
   */
  public List<ByteBuf> split(Signal signal, ByteBuf request) {
    return split(signal, request, null);
  }

  /**
   * Like {@link #split(Signal, ByteBuf)}, and adds each part's item count to {@code itemCounts}
   * (when not {@code null}), in the parts' order, so that the caller need not walk the parts again.
   */
  public List<ByteBuf> split(Signal signal, ByteBuf request, List<Long> itemCounts) {
    List<ByteBuf> parts = new ArrayList<>();
    if (validate) {
      WalkSummary summary = walker.walk(signal, request);
      if (fits(summary)) {
        parts.add(request.retainedSlice());
        if (itemCounts != null) {
          itemCounts.add(summary.itemCount());
        }
        return parts;
      }
    }
    int countsBefore = itemCounts == null ? 0 : itemCounts.size();
    try {
      new Cut(signal, request, parts, itemCounts).run();
      return parts;
    } catch (RuntimeException | Error e) {
      for (ByteBuf part : parts) {
        part.release();
      }
      if (itemCounts != null) {
        itemCounts.subList(countsBefore, itemCounts.size()).clear();
      }
      throw e;
    }
  }

  private boolean fits(WalkSummary summary) {
    return summary.itemCount() <= maxItems && summary.byteCount() <= maxBytes;
  }

  private static final int OPEN = 1;
  private static final int RUN = 2;
  private static final int CLOSE = 3;
  private static final int TOKEN = 5;
  private static final int LEVELS = 4;

  private static int tag(int field) {
    return (field << 3) | LENGTH_DELIMITED;
  }

  /**
   * One split. Levels: 0 Resource*, 1 Scope*, and for metrics 2 Metric, 3 its data message. A part
   * is planned as a list of tokens (open a level with its header, a run of input bytes, close a
   * level) and written when it is full, so that every length prefix is known before it is written.
   */
  private final class Cut {
    private final ByteBuf input;
    private final ByteBuffer b;
    private final int base;
    private final boolean metrics;
    private final ByteBufAllocator alloc;
    private final List<ByteBuf> parts;
    private final List<Long> itemCounts; // null when the caller does not want them

    // Header bytes of the level instances being cut, as a stack: level k at hdrOff[k].
    private byte[] scratch = new byte[256];
    private final int[] hdrOff = new int[LEVELS];
    private final int[] hdrLen = new int[LEVELS];
    private final int[] field = new int[LEVELS];
    private final boolean[] opened = new boolean[LEVELS];
    private final boolean[] emitted = new boolean[LEVELS];
    private final long[] content = new long[LEVELS];

    // The part being planned.
    private int[] tokens = new int[TOKEN * 32];
    private int tokenCount;
    private byte[] arena = new byte[256];
    private int arenaLen;
    private long partClosed;
    private long partItems;

    Cut(Signal signal, ByteBuf input, List<ByteBuf> parts, List<Long> itemCounts) {
      this.itemCounts = itemCounts;
      this.input = input;
      this.b = WireReader.view(input);
      this.base = b.position();
      this.metrics = signal == Signal.METRICS;
      this.alloc = input.alloc();
      this.parts = parts;
    }

    void run() {
      int end = b.limit();
      int p = base;
      while (p < end) {
        int tagPos = p;
        long r = readTag(b, p, end, base);
        p = pos(r);
        int tag = value(r);
        if (tag == tag(OtlpSchema.REQUEST_RESOURCES)) {
          long lr = readLength(b, p, end, base);
          p = pos(lr) + value(lr);
          resourceEntry(pos(lr), p);
        } else {
          p = skipValue(b, tag & 7, tagPos, p, end, base);
          addUnit(0, tagPos, p, 0);
        }
      }
      if (tokenCount > 0) {
        writePart();
      }
    }

    private void resourceEntry(int start, int end) {
      container(0, OtlpSchema.REQUEST_RESOURCES, start, end);
      int p = start;
      while (p < end) {
        long r = readTag(b, p, end, base);
        int tagPos = p;
        p = pos(r);
        int tag = value(r);
        p = skipValue(b, tag & 7, tagPos, p, end, base);
        if (tag == tag(OtlpSchema.ENTRY_CHILDREN)) {
          long lr = readLength(b, pos(r), end, base);
          scopeEntry(pos(lr), p);
        }
      }
      endLevel(0);
    }

    private void scopeEntry(int start, int end) {
      container(1, OtlpSchema.ENTRY_CHILDREN, start, end);
      int p = start;
      while (p < end) {
        long r = readTag(b, p, end, base);
        int tagPos = p;
        p = pos(r);
        int tag = value(r);
        p = skipValue(b, tag & 7, tagPos, p, end, base);
        if (tag == tag(OtlpSchema.ENTRY_CHILDREN)) {
          if (metrics) {
            long lr = readLength(b, pos(r), end, base);
            metric(pos(lr), p);
          } else {
            addUnit(2, tagPos, p, 1);
          }
        }
      }
      endLevel(1);
    }

    /**
     * Starts level {@code k} with every field of {@code [start, end)} but its children as header.
     */
    private void container(int k, int fieldNumber, int start, int end) {
      beginHeader(k, fieldNumber);
      int p = start;
      while (p < end) {
        long r = readTag(b, p, end, base);
        int tagPos = p;
        p = pos(r);
        int tag = value(r);
        p = skipValue(b, tag & 7, tagPos, p, end, base);
        if (tag != tag(OtlpSchema.ENTRY_CHILDREN)) {
          appendHeader(k, tagPos, p);
        }
      }
    }

    private void metric(int start, int end) {
      beginHeader(2, OtlpSchema.ENTRY_CHILDREN);
      // Which data member survives protobuf's oneof semantics: the last one, from where its run
      // began.
      int live = 0;
      int liveFrom = start;
      int p = start;
      while (p < end) {
        long r = readTag(b, p, end, base);
        int tagPos = p;
        p = pos(r);
        int tag = value(r);
        p = skipValue(b, tag & 7, tagPos, p, end, base);
        int number = tag >>> 3;
        if ((tag & 7) == LENGTH_DELIMITED && OtlpSchema.isMetricData(number)) {
          if (number != live) {
            live = number;
            liveFrom = tagPos;
          }
        } else {
          appendHeader(2, tagPos, p);
        }
      }
      if (live != 0) {
        beginHeader(3, live);
        for (int pass = 0; pass < 2; pass++) {
          p = liveFrom;
          while (p < end) {
            long r = readTag(b, p, end, base);
            int tagPos = p;
            p = pos(r);
            int tag = value(r);
            p = skipValue(b, tag & 7, tagPos, p, end, base);
            if (tag == tag(live)) {
              long lr = readLength(b, pos(r), end, base);
              dataMessage(pass, pos(lr), p);
            }
          }
        }
        endLevel(3);
      }
      endLevel(2);
    }

    /** Pass 0 collects a live data message's header; pass 1 adds its points. */
    private void dataMessage(int pass, int start, int end) {
      int p = start;
      while (p < end) {
        long r = readTag(b, p, end, base);
        int tagPos = p;
        p = pos(r);
        int tag = value(r);
        p = skipValue(b, tag & 7, tagPos, p, end, base);
        boolean point = tag == tag(OtlpSchema.METRIC_DATA_POINTS);
        if (pass == 0 && !point) {
          appendHeader(3, tagPos, p);
        } else if (pass == 1 && point) {
          addUnit(4, tagPos, p, 1);
        }
      }
    }

    private void beginHeader(int k, int fieldNumber) {
      hdrOff[k] = k == 0 ? 0 : hdrOff[k - 1] + hdrLen[k - 1];
      hdrLen[k] = 0;
      field[k] = fieldNumber;
      opened[k] = false;
      emitted[k] = false;
    }

    private void appendHeader(int k, int start, int end) {
      int length = end - start;
      int at = hdrOff[k] + hdrLen[k];
      if (at + length > scratch.length) {
        scratch = Arrays.copyOf(scratch, Math.max(at + length, scratch.length * 2));
      }
      b.get(start, scratch, at, length);
      hdrLen[k] += length;
    }

    /**
     * The size of the part if a unit of {@code extra} bytes were added inside levels 0..depth-1.
     */
    private long sizeWith(long extra, int depth) {
      long s = extra;
      for (int k = depth - 1; k >= 0; k--) {
        long c = (opened[k] ? content[k] : hdrLen[k]) + s;
        s = 1 + varintSize(c) + c;
      }
      return partClosed + s;
    }

    private void addUnit(int depth, int start, int end, int items) {
      int length = end - start;
      if (tokenCount > 0 && (partItems + items > maxItems || sizeWith(length, depth) > maxBytes)) {
        cutPart();
      }
      open(depth);
      int last = (tokenCount - 1) * TOKEN;
      if (tokenCount > 0 && tokens[last] == RUN && tokens[last + 2] == start - base) {
        tokens[last + 2] = end - base;
      } else {
        token(RUN, start - base, end - base, 0, 0);
      }
      if (depth == 0) {
        partClosed += length;
      } else {
        content[depth - 1] += length;
      }
      partItems += items;
    }

    private void endLevel(int k) {
      if (!opened[k] && !emitted[k]) {
        // An empty container is kept, in the current part.
        if (tokenCount > 0 && sizeWith(0, k + 1) > maxBytes) {
          cutPart();
        }
        open(k + 1);
      }
      if (opened[k]) {
        token(CLOSE, 0, 0, 0, 0);
        long c = content[k];
        long encoded = 1 + varintSize(c) + c;
        if (k == 0) {
          partClosed += encoded;
        } else {
          content[k - 1] += encoded;
        }
        opened[k] = false;
      }
    }

    /** Opens levels 0..depth-1 in the current part where they are not open yet. */
    private void open(int depth) {
      for (int k = 0; k < depth; k++) {
        if (!opened[k]) {
          int length = hdrLen[k];
          if (arenaLen + length > arena.length) {
            arena = Arrays.copyOf(arena, Math.max(arenaLen + length, arena.length * 2));
          }
          System.arraycopy(scratch, hdrOff[k], arena, arenaLen, length);
          token(OPEN, field[k], arenaLen, length, 0);
          arenaLen += length;
          opened[k] = true;
          emitted[k] = true;
          content[k] = length;
        }
      }
    }

    private void token(int type, int a, int c, int d, int e) {
      int at = tokenCount * TOKEN;
      if (at + TOKEN > tokens.length) {
        tokens = Arrays.copyOf(tokens, tokens.length * 2);
      }
      tokens[at] = type;
      tokens[at + 1] = a;
      tokens[at + 2] = c;
      tokens[at + 3] = d;
      tokens[at + 4] = e;
      tokenCount++;
    }

    private void cutPart() {
      for (int k = LEVELS - 1; k >= 0; k--) {
        if (opened[k]) {
          token(CLOSE, 0, 0, 0, 0);
          opened[k] = false;
        }
      }
      writePart();
    }

    /** Writes the planned part: lengths first (one pass with a stack), then the bytes. */
    private void writePart() {
      int[] stack = new int[LEVELS + 1];
      long[] sizes = new long[LEVELS + 1];
      int sp = 0;
      long headerBytes = 0;
      for (int i = 0; i < tokenCount; i++) {
        int t = i * TOKEN;
        switch (tokens[t]) {
          case OPEN:
            stack[sp] = t;
            sizes[sp++] = tokens[t + 3];
            headerBytes += 6 + tokens[t + 3];
            break;
          case RUN:
            if (sp > 0) {
              sizes[sp - 1] += tokens[t + 2] - tokens[t + 1];
            }
            break;
          default:
            {
              long c = sizes[--sp];
              tokens[stack[sp] + 4] = (int) c;
              if (sp > 0) {
                sizes[sp - 1] += 1 + varintSize(c) + c;
              }
              break;
            }
        }
      }
      CompositeByteBuf part = alloc.compositeBuffer(Integer.MAX_VALUE);
      ByteBuf headers = alloc.heapBuffer((int) Math.min(Integer.MAX_VALUE - 8, headerBytes));
      try {
        int pending = 0;
        int readerIndex = input.readerIndex();
        for (int i = 0; i < tokenCount; i++) {
          int t = i * TOKEN;
          if (tokens[t] == OPEN) {
            headers.writeByte(tag(tokens[t + 1]));
            writeVarint(headers, tokens[t + 4]);
            headers.writeBytes(arena, tokens[t + 2], tokens[t + 3]);
          } else if (tokens[t] == RUN) {
            if (headers.writerIndex() > pending) {
              part.addComponent(
                  true, headers.retainedSlice(pending, headers.writerIndex() - pending));
              pending = headers.writerIndex();
            }
            part.addComponent(
                true,
                input.retainedSlice(readerIndex + tokens[t + 1], tokens[t + 2] - tokens[t + 1]));
          }
        }
        if (headers.writerIndex() > pending) {
          part.addComponent(true, headers.retainedSlice(pending, headers.writerIndex() - pending));
        }
      } catch (RuntimeException | Error e) {
        part.release();
        throw e;
      } finally {
        headers.release();
      }
      parts.add(part);
      if (itemCounts != null) {
        itemCounts.add(partItems);
      }
      tokenCount = 0;
      arenaLen = 0;
      partClosed = 0;
      partItems = 0;
    }
  }

  static int varintSize(long value) {
    return ProtoWriter.varintSize(value);
  }

  static void writeVarint(ByteBuf out, int value) {
    while ((value & ~0x7F) != 0) {
      out.writeByte((value & 0x7F) | 0x80);
      value >>>= 7;
    }
    out.writeByte(value);
  }

  /** Configures a {@link RequestSplitter}. Not thread-safe; the splitter it builds is. */
  public static final class Builder {
    private int maxItems = DEFAULT_MAX_ITEMS;
    private int maxBytes = DEFAULT_MAX_BYTES;
    private OtlpWalker walker = OtlpWalker.create();
    private boolean validate = true;

    private Builder() {}

    /**
     * Whether {@link #split} walks (validates) each request first (default true). Turn it off only
     * for requests this process has already walked, to save the second pass: the cut itself reads
     * every field's tag and length within bounds and throws {@link WireFormatException} where they
     * are broken, but does not look inside items, so it cannot tell a malformed item from a valid
     * one.
     */
    public Builder validation(boolean validate) {
      this.validate = validate;
      return this;
    }

    /**
     * The most items (spans, data points, log records) in one part; default {@value
     * #DEFAULT_MAX_ITEMS}.
     */
    public Builder maxItems(int maxItems) {
      if (maxItems < 1) {
        throw new IllegalArgumentException("maxItems must be at least 1, was " + maxItems);
      }
      this.maxItems = maxItems;
      return this;
    }

    /**
     * The most bytes in one part, unless a single item needs more; default {@value
     * #DEFAULT_MAX_BYTES}.
     */
    public Builder maxBytes(int maxBytes) {
      if (maxBytes < 1) {
        throw new IllegalArgumentException("maxBytes must be at least 1, was " + maxBytes);
      }
      this.maxBytes = maxBytes;
      return this;
    }

    /**
     * The walker that validates each request before it is cut (default {@link
     * OtlpWalker#create()}).
     */
    public Builder walker(OtlpWalker walker) {
      if (walker == null) {
        throw new IllegalArgumentException("walker must not be null");
      }
      this.walker = walker;
      return this;
    }

    public RequestSplitter build() {
      return new RequestSplitter(this);
    }
  }
}
