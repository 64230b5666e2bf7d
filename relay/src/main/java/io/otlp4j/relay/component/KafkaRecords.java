package io.otlp4j.relay.component;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.otlp4j.wire.OtlpJson;
import io.otlp4j.wire.OtlpWalker;
import io.otlp4j.wire.RequestSplitter;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.WireFormatException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Cuts one encoded export request into the Kafka records the {@code kafka} exporter sends: the
 * request's own bytes as one record (no decode, no re-encode), or, when partitioned, one record per
 * trace (key: the trace id in lowercase hex, as the Collector) or per {@code Resource*} (key: a
 * hash of the resource's attributes); a piece whose value would exceed the record limit is cut
 * again at item boundaries with the {@link RequestSplitter}; {@code otlp_json} transcodes each
 * piece with {@link OtlpJson}.
 *
 * <p><b>Buffer ownership:</b> {@link #records} only reads the request (its indexes and reference
 * count are unchanged; the caller releases it); the records are plain byte arrays (the Kafka
 * producer takes {@code byte[]}: this is the one copy of the bytes). Intermediate pieces are
 * released before it returns, also on an exception. Stateless apart from its settings; thread-safe.
 */
final class KafkaRecords {
  /**
   * Room left in {@code max_message_bytes} for what Kafka adds around a value (record and batch
   * headers: at most 82 bytes in the v2 format) and the key (at most 32 bytes here).
   */
  static final int RECORD_OVERHEAD = 256;

  private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
  private static final TailSamplingPolicy.Attribute[] NO_ATTRIBUTES =
      new TailSamplingPolicy.Attribute[0];
  private static final OtlpWalker WALKER = OtlpWalker.create();

  /** One record: key (null: none, the producer spreads such records), value, items in it. */
  record Record(byte[] key, byte[] value, long items) {}

  private final int maxValueBytes;
  private final RequestSplitter splitter;

  /**
   * @param maxMessageBytes the producer's {@code max_message_bytes}; values stay {@link
   *     #RECORD_OVERHEAD} bytes below it where the items allow (one item larger than that goes
   *     alone, and the producer refuses it as too large)
   */
  KafkaRecords(int maxMessageBytes) {
    this.maxValueBytes = Math.max(1, maxMessageBytes - RECORD_OVERHEAD);
    this.splitter =
        RequestSplitter.builder().maxItems(Integer.MAX_VALUE).maxBytes(maxValueBytes).build();
  }

  /**
   * The records of {@code request} (ownership stays with the caller), in order.
   *
   * @param itemCount the request's items, when it goes whole into one record
   * @throws WireFormatException when the request is malformed
   */
  List<Record> records(
      Signal signal, ByteBuf request, long itemCount, boolean partitioned, boolean json) {
    List<Piece> pieces = new ArrayList<>();
    try {
      if (!partitioned) {
        pieces.add(new Piece(null, request.retainedSlice(), itemCount));
      } else if (signal == Signal.TRACES) {
        byTrace(request, pieces);
      } else {
        byResource(signal, request, pieces);
      }
      List<Record> out = new ArrayList<>(pieces.size());
      for (Piece p : pieces) {
        encode(signal, p, json, out);
      }
      return out;
    } finally {
      for (Piece p : pieces) {
        p.bytes.release();
      }
    }
  }

  /** A part of the request: its protobuf bytes (owned by the piece list), key and items. */
  private record Piece(byte[] key, ByteBuf bytes, long items) {}

  private void encode(Signal signal, Piece p, boolean json, List<Record> out) {
    int size = p.bytes.readableBytes();
    if (!json) {
      if (size <= maxValueBytes) {
        out.add(new Record(p.key, ByteBufUtil.getBytes(p.bytes), p.items));
        return;
      }
      split(signal, p, maxValueBytes, json, out);
      return;
    }
    byte[] value = OtlpJson.toJson(signal, ByteBufUtil.getBytes(p.bytes));
    if (value.length <= maxValueBytes) {
      out.add(new Record(p.key, value, p.items));
      return;
    }
    // JSON is larger than the protobuf: cut the protobuf to the same share of the limit, less 10 %
    long target = (long) size * maxValueBytes / value.length * 9 / 10;
    split(signal, p, (int) Math.max(1, Math.min(size - 1, target)), json, out);
  }

  private void split(Signal signal, Piece p, int maxBytes, boolean json, List<Record> out) {
    RequestSplitter s =
        maxBytes == maxValueBytes
            ? splitter
            : RequestSplitter.builder().maxItems(Integer.MAX_VALUE).maxBytes(maxBytes).build();
    List<Long> counts = new ArrayList<>();
    List<ByteBuf> parts = s.split(signal, p.bytes, counts);
    try {
      if (parts.size() == 1) {
        // one item too large on its own: the producer refuses it (RecordTooLargeException)
        byte[] value = ByteBufUtil.getBytes(parts.get(0));
        out.add(new Record(p.key, json ? OtlpJson.toJson(signal, value) : value, p.items));
        return;
      }
      for (int i = 0; i < parts.size(); i++) {
        encode(signal, new Piece(p.key, parts.get(i), counts.get(i)), json, out);
      }
    } finally {
      for (ByteBuf part : parts) {
        part.release();
      }
    }
  }

  // ------------------------------------------------------------------------------------ by trace

  /** One piece per trace id, its spans from every resource and scope, in order of appearance. */
  private static void byTrace(ByteBuf request, List<Piece> pieces) {
    ByteBuf source = request.slice(); // the scan's offsets are relative to the reader index
    TailSamplingScan scan = new TailSamplingScan(NO_ATTRIBUTES, false);
    scan.scan(source);
    Map<TraceId, List<int[]>> layouts = new LinkedHashMap<>();
    Map<TraceId, long[]> spans = new LinkedHashMap<>();
    for (TailSamplingScan.Group g : scan.groups) {
      TraceId id = new TraceId(g.hi, g.lo);
      layouts.computeIfAbsent(id, k -> new ArrayList<>()).add(scan.layout(g));
      spans.computeIfAbsent(id, k -> new long[1])[0] += g.spans;
    }
    for (Map.Entry<TraceId, List<int[]>> e : layouts.entrySet()) {
      int size = 0;
      for (int[] l : e.getValue()) {
        size += TailSamplingScan.encodedSize(l);
      }
      ByteBuf out = Unpooled.buffer(size, size);
      try {
        for (int[] l : e.getValue()) {
          TailSamplingScan.write(l, source, out);
        }
      } catch (RuntimeException ex) {
        out.release();
        throw ex;
      }
      pieces.add(new Piece(e.getKey().hex(), out, spans.get(e.getKey())[0]));
    }
  }

  private record TraceId(long hi, long lo) {
    byte[] hex() {
      byte[] out = new byte[32];
      for (int i = 0; i < 16; i++) {
        long word = i < 8 ? hi : lo;
        int b = (int) (word >>> (56 - 8 * (i % 8))) & 0xFF;
        out[2 * i] = HEX[b >>> 4];
        out[2 * i + 1] = HEX[b & 0xF];
      }
      return out;
    }
  }

  // --------------------------------------------------------------------------------- by resource

  /**
   * One piece per {@code Resource*} message (field 1 of the request), keyed by {@link
   * #resourceKey}. Other request-level fields (unknown ones) are not carried.
   */
  private static void byResource(Signal signal, ByteBuf request, List<Piece> pieces) {
    int pos = request.readerIndex();
    int limit = request.writerIndex();
    while (pos < limit) {
      int start = pos;
      long tag = varint(request, pos, limit);
      pos += varintSize(tag);
      int wireType = (int) (tag & 7);
      if (wireType != 2) {
        pos = skip(request, pos, limit, wireType);
        continue;
      }
      long len = varint(request, pos, limit);
      pos += varintSize(len);
      if (len > limit - pos) {
        throw new WireFormatException(pos, "a length runs past the end of the request");
      }
      int end = pos + (int) len;
      if ((tag >>> 3) == 1) {
        ByteBuf piece = request.retainedSlice(start, end - start);
        try {
          long items = WALKER.walk(signal, piece.duplicate()).itemCount();
          pieces.add(new Piece(resourceKey(request, pos, end), piece, items));
        } catch (RuntimeException e) {
          piece.release();
          throw e;
        }
      }
      pos = end;
    }
  }

  /**
   * 16 bytes of SHA-256 over the resource's attributes ({@code KeyValue} messages) sorted by their
   * encoded bytes, so that the same attributes in any order give the same key. The Collector keys
   * by its own 16-byte hash of the attribute map (pdatautil.MapHash); the keys differ, the grouping
   * is the same.
   */
  static byte[] resourceKey(ByteBuf buf, int from, int to) {
    List<byte[]> attributes = new ArrayList<>();
    int pos = from;
    while (pos < to) {
      long tag = varint(buf, pos, to);
      pos += varintSize(tag);
      int wireType = (int) (tag & 7);
      if (wireType != 2) {
        pos = skip(buf, pos, to, wireType);
        continue;
      }
      long len = varint(buf, pos, to);
      pos += varintSize(len);
      int end = pos + (int) len;
      if (len > to - pos) {
        throw new WireFormatException(pos, "a length runs past the end of a resource");
      }
      if ((tag >>> 3) == 1) { // Resource
        int p = pos;
        while (p < end) {
          long t = varint(buf, p, end);
          p += varintSize(t);
          int wt = (int) (t & 7);
          if (wt != 2) {
            p = skip(buf, p, end, wt);
            continue;
          }
          long l = varint(buf, p, end);
          p += varintSize(l);
          if (l > end - p) {
            throw new WireFormatException(p, "a length runs past the end of a resource");
          }
          if ((t >>> 3) == 1) { // attributes
            byte[] kv = new byte[(int) l];
            buf.getBytes(p, kv);
            attributes.add(kv);
          }
          p += (int) l;
        }
      }
      pos = end;
    }
    attributes.sort(Arrays::compareUnsigned);
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      for (byte[] kv : attributes) {
        sha.update((byte) (kv.length >>> 24));
        sha.update((byte) (kv.length >>> 16));
        sha.update((byte) (kv.length >>> 8));
        sha.update((byte) kv.length);
        sha.update(kv);
      }
      return Arrays.copyOf(sha.digest(), 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }

  private static long varint(ByteBuf buf, int pos, int limit) {
    long v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= limit) {
        throw new WireFormatException(pos, "a varint runs past the end");
      }
      byte b = buf.getByte(pos++);
      v |= (long) (b & 0x7F) << shift;
      if (b >= 0) {
        return v;
      }
    }
    throw new WireFormatException(pos, "a varint is longer than 10 bytes");
  }

  private static int varintSize(long v) {
    int n = 1;
    while ((v & ~0x7FL) != 0) {
      v >>>= 7;
      n++;
    }
    return n;
  }

  private static int skip(ByteBuf buf, int pos, int limit, int wireType) {
    int next =
        switch (wireType) {
          case 0 -> pos + varintSize(varint(buf, pos, limit));
          case 1 -> pos + 8;
          case 5 -> pos + 4;
          default -> throw new WireFormatException(pos, "unexpected wire type " + wireType);
        };
    if (next > limit) {
      throw new WireFormatException(pos, "a field runs past the end");
    }
    return next;
  }
}
