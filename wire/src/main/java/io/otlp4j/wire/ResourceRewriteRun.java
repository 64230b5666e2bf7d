package io.otlp4j.wire;

import static io.otlp4j.wire.ResourceRewrite.DELETE;
import static io.otlp4j.wire.ResourceRewrite.INSERT;
import static io.otlp4j.wire.ResourceRewrite.KEY_VALUE_TAG;
import static io.otlp4j.wire.ResourceRewrite.RESOURCE_TAG;
import static io.otlp4j.wire.ResourceRewrite.UPSERT;
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
import java.util.Arrays;

/**
 * One application of a {@link ResourceRewrite} to one request: the pieces of the output, in order,
 * as (source, start, length) triples, where a piece is either a range of the input (passed on as a
 * retained slice) or a range of the bytes re-encoded here (each {@code Resource} with its length
 * prefix).
 *
 * <h2>Buffer ownership</h2>
 *
 * Only reads the input: its indexes and reference count are unchanged and the caller keeps it.
 * {@link #run()} returns a buffer the caller owns and must release, holding retained slices of the
 * input; on an exception it releases what it allocated, so nothing is left allocated.
 *
 * <p>Used once, by one thread (a {@link ResourceRewrite} creates one per {@code apply}).
 */
final class ResourceRewriteRun {
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

  private final boolean[] written;

  /**
   * Per operation with a source, in the current Resource*: where the source's value field is, or
   * -1.
   */
  private final int[] sourceStart;

  private final int[] sourceEnd;
  private final byte[][] keys;
  private final byte[] kinds;
  private final byte[][] replacements;
  private final byte[][] values;
  private final byte[][] sources;
  private final byte[][] keyFields;
  private final boolean anyAppend;

  ResourceRewriteRun(ResourceRewrite rewrite, ByteBuf input) {
    this.keys = rewrite.keys;
    this.kinds = rewrite.kinds;
    this.replacements = rewrite.replacements;
    this.values = rewrite.values;
    this.sources = rewrite.sources;
    this.keyFields = rewrite.keyFields;
    this.anyAppend = rewrite.anyAppend;
    this.written = new boolean[keys.length];
    this.sourceStart = new int[keys.length];
    this.sourceEnd = new int[keys.length];
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
        result.addComponent(
            true,
            source == FROM_INPUT
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
   * Writes the KeyValue whose content is {@code [start, end)} with its value replaced: its other
   * fields (the key, unknown fields) are kept as they are.
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

  /**
   * If the KeyValue {@code [start, end)} is named {@code key}: records its (last) value field for
   * {@code k}.
   */
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
        // Protobuf merges repeated message fields; the relay's inputs carry one value, the last
        // kept.
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
