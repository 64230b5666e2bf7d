package io.otlp4j.wire;

import com.github.luben.zstd.EndDirective;
import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.ByteProcessor;
import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

/**
 * The payload compressions OTLP uses: none, gzip (RFC 1952) and zstd (RFC 8878), with bounded,
 * streaming decompression that is safe against compression bombs.
 *
 * <h2>Decompression limits</h2>
 *
 * {@link #decompress(ByteBuf, ByteBufAllocator, long)} stops as soon as the output passes {@code
 * maxDecompressedBytes} and throws; it never allocates more than the limit plus one byte of output
 * buffers, whatever sizes the stream declares. A declared size (gzip's ISIZE trailer, zstd's frame
 * content size) is used only as a hint for the first buffer, capped at {@value #HINT_RATIO} times
 * the input, so a lying header costs at most that much. Zstd's window (native memory) is capped at
 * the larger of 8 MiB and the limit (at most 128 MiB); a frame that needs more is refused as
 * corrupt.
 *
 * <h2>Strictness</h2>
 *
 * Gzip: concatenated members are decoded one after another (RFC 1952 §2.2); the header's optional
 * fields are skipped and its CRC-16 checked; every member's CRC-32 and length are verified;
 * reserved flag bits, a compression method other than deflate, trailing bytes that are not a
 * member, and an empty input are refused. Zstd: concatenated and skippable frames are accepted; an
 * empty input and a truncated frame are refused. Every refusal is a {@link WireFormatException}
 * whose offset is the input position (from its reader index) where the problem was found, or {@code
 * -1} where none applies (the limit).
 *
 * <h2>Buffer ownership</h2>
 *
 * The caller keeps ownership of every input buffer: it is not released and its indexes are
 * unchanged, whether the call succeeds or throws. The caller owns, and must release, every buffer
 * returned. A decompressed result may be a {@link io.netty.buffer.CompositeByteBuf} when the output
 * did not fit the first buffer. {@link #NONE} returns a retained slice of the input (no copy):
 * release it as any other result. On any exception everything the call allocated has been released.
 *
 * <p>Thread-safe: every method is stateless; codec state (Inflater, Deflater, zstd contexts) is
 * created per call and freed before it returns.
 */
public enum Compression {
  /** No compression: no {@code Content-Encoding} header, gRPC's identity. */
  NONE("none"),
  /** gzip, level 6 (the JDK's and zlib's default). */
  GZIP("gzip"),
  /** zstd, level 3 (zstd's default). */
  ZSTD("zstd");

  /** The gzip level {@link #compress} uses. */
  public static final int GZIP_LEVEL = 6;

  /** The zstd level {@link #compress} uses. */
  public static final int ZSTD_LEVEL = 3;

  /**
   * A declared decompressed size sizes the first output buffer only up to this many times the
   * input.
   */
  public static final int HINT_RATIO = 16;

  private static final int GZIP_HEADER = 10;
  private static final int GZIP_TRAILER = 8;
  private static final int FHCRC = 2;
  private static final int FEXTRA = 4;
  private static final int FNAME = 8;
  private static final int FCOMMENT = 16;
  private static final int ZSTD_MIN_WINDOW_LOG =
      23; // 8 MiB: what zstd asks every decoder to support
  private static final int ZSTD_MAX_WINDOW_LOG = 27; // zstd's own default limit
  private static final int COMPRESS_CHUNK = 8192;

  private final String encoding;

  Compression(String encoding) {
    this.encoding = encoding;
  }

  /**
   * The name in configuration and in {@code Content-Encoding} / {@code grpc-encoding}: {@code none}
   * (which is sent as no header at all), {@code gzip} or {@code zstd}.
   */
  public String encoding() {
    return encoding;
  }

  /**
   * The compression named by a {@code Content-Encoding} or configuration value, ignoring case and
   * surrounding blanks: {@code null}, empty, {@code identity} and {@code none} are {@link #NONE};
   * {@code x-gzip} is {@link #GZIP} (RFC 9110 §8.4.1.3).
   *
   * @throws IllegalArgumentException naming the value when it is none of these
   */
  public static Compression fromEncoding(String encoding) {
    if (encoding == null) {
      return NONE;
    }
    String name = encoding.trim().toLowerCase(Locale.ROOT);
    switch (name) {
      case "":
      case "identity":
      case "none":
        return NONE;
      case "gzip":
      case "x-gzip":
        return GZIP;
      case "zstd":
        return ZSTD;
      default:
        throw new IllegalArgumentException(
            "unsupported compression '" + encoding + "' (expected none, identity, gzip or zstd)");
    }
  }

  // ================================================================ compress

  /**
   * Compresses the readable bytes of {@code input}.
   *
   * @param input not released, indexes unchanged
   * @return a new buffer the caller must release ({@link #NONE}: a retained slice of {@code input})
   */
  public ByteBuf compress(ByteBuf input, ByteBufAllocator alloc) {
    switch (this) {
      case NONE:
        return input.retainedSlice();
      case GZIP:
        return gzip(input, alloc);
      default:
        return zstd(input, alloc);
    }
  }

  /** Compresses {@code input} into a new array ({@link #NONE}: a copy). */
  public byte[] compress(byte[] input) {
    ByteBuf in = Unpooled.wrappedBuffer(input);
    ByteBuf out = compress(in, UnpooledByteBufAllocator.DEFAULT);
    try {
      byte[] bytes = new byte[out.readableBytes()];
      out.getBytes(out.readerIndex(), bytes);
      return bytes;
    } finally {
      out.release();
      in.release();
    }
  }

  private static ByteBuf gzip(ByteBuf input, ByteBufAllocator alloc) {
    int length = input.readableBytes();
    ByteBuf out = alloc.buffer(Math.max(64, length / 3 + 32));
    Deflater deflater = new Deflater(GZIP_LEVEL, true);
    try {
      out.writeBytes(new byte[] {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, (byte) 0xff});
      CRC32 crc = new CRC32();
      for (ByteBuffer part : input.nioBuffers(input.readerIndex(), length)) {
        part = usable(part);
        crc.update(part.duplicate());
        deflater.setInput(part);
        while (!deflater.needsInput()) {
          deflateInto(deflater, out);
        }
      }
      deflater.finish();
      while (!deflater.finished()) {
        deflateInto(deflater, out);
      }
      out.writeIntLE((int) crc.getValue());
      out.writeIntLE(length);
      return out;
    } catch (RuntimeException | Error e) {
      out.release();
      throw e;
    } finally {
      deflater.end();
    }
  }

  private static void deflateInto(Deflater deflater, ByteBuf out) {
    out.ensureWritable(COMPRESS_CHUNK);
    ByteBuffer dst = out.internalNioBuffer(out.writerIndex(), out.writableBytes());
    int start = dst.position();
    deflater.deflate(dst);
    out.writerIndex(out.writerIndex() + dst.position() - start);
  }

  private static ByteBuf zstd(ByteBuf input, ByteBufAllocator alloc) {
    int length = input.readableBytes();
    ByteBuf out = alloc.buffer(Math.max(64, length / 3 + 32));
    ZstdCompressCtx ctx = new ZstdCompressCtx();
    try {
      ctx.setLevel(ZSTD_LEVEL);
      ctx.setPledgedSrcSize(length); // records the content size in the frame header
      for (ByteBuffer part : input.nioBuffers(input.readerIndex(), length)) {
        part = usable(part);
        while (part.hasRemaining()) {
          zstdInto(ctx, out, part, EndDirective.CONTINUE);
        }
      }
      ByteBuffer empty = ByteBuffer.allocate(0);
      while (!zstdInto(ctx, out, empty, EndDirective.END)) {
        // more to flush
      }
      return out;
    } catch (RuntimeException | Error e) {
      out.release();
      throw e;
    } finally {
      ctx.close();
    }
  }

  private static boolean zstdInto(
      ZstdCompressCtx ctx, ByteBuf out, ByteBuffer src, EndDirective end) {
    out.ensureWritable(COMPRESS_CHUNK);
    ByteBuffer dst = out.internalNioBuffer(out.writerIndex(), out.writableBytes());
    int start = dst.position();
    boolean done = ctx.compressByteBufferStream(dst, src, end);
    out.writerIndex(out.writerIndex() + dst.position() - start);
    return done;
  }

  // ================================================================ decompress

  /**
   * Decompresses the readable bytes of {@code input}, refusing output larger than {@code
   * maxDecompressedBytes}.
   *
   * @param input not released, indexes unchanged
   * @param maxDecompressedBytes the most output accepted (at most {@code Integer.MAX_VALUE - 1};
   *     larger values are treated as that)
   * @return a new buffer the caller must release ({@link #NONE}: a retained slice of {@code input})
   * @throws WireFormatException for a corrupt or truncated stream, or output past the limit ({@code
   *     "decompressed size exceeds the limit of N bytes"}); nothing allocated stays allocated
   * @throws IllegalArgumentException when {@code maxDecompressedBytes} is negative
   */
  public ByteBuf decompress(ByteBuf input, ByteBufAllocator alloc, long maxDecompressedBytes) {
    if (maxDecompressedBytes < 0) {
      throw new IllegalArgumentException(
          "maxDecompressedBytes must not be negative, was " + maxDecompressedBytes);
    }
    long limit = Math.min(maxDecompressedBytes, Integer.MAX_VALUE - 1);
    switch (this) {
      case NONE:
        if (input.readableBytes() > limit) {
          throw DecompressedOutput.limitExceeded(maxDecompressedBytes);
        }
        return input.retainedSlice();
      case GZIP:
        return gunzip(input, alloc, limit);
      default:
        return unzstd(input, alloc, limit);
    }
  }

  /**
   * Decompresses {@code input} into a new array; see {@link #decompress(ByteBuf, ByteBufAllocator,
   * long)}.
   */
  public byte[] decompress(byte[] input, long maxDecompressedBytes) {
    ByteBuf in = Unpooled.wrappedBuffer(input);
    try {
      ByteBuf out = decompress(in, UnpooledByteBufAllocator.DEFAULT, maxDecompressedBytes);
      try {
        byte[] bytes = new byte[out.readableBytes()];
        out.getBytes(out.readerIndex(), bytes);
        return bytes;
      } finally {
        out.release();
      }
    } finally {
      in.release();
    }
  }

  // ---------------------------------------------------------------- gzip

  private static ByteBuf gunzip(ByteBuf input, ByteBufAllocator alloc, long limit) {
    int base = input.readerIndex();
    int end = input.writerIndex();
    if (end == base) {
      throw new WireFormatException(0, "empty gzip stream");
    }
    long declared = end - base >= GZIP_HEADER + GZIP_TRAILER ? input.getUnsignedIntLE(end - 4) : -1;
    DecompressedOutput out = new DecompressedOutput(alloc, limit, declared, end - base, HINT_RATIO);
    Inflater inflater = new Inflater(true);
    try {
      CRC32 crc = new CRC32();
      int pos = base;
      while (pos < end) {
        int dataStart = gzipHeader(input, base, pos, end);
        inflater.reset();
        crc.reset();
        long memberStart = out.written();
        ByteBuffer[] parts = input.nioBuffers(dataStart, end - dataStart);
        int part = 0;
        if (parts.length > 0) {
          inflater.setInput(usable(parts[0]));
        }
        while (!inflater.finished()) {
          if (inflater.needsInput()) {
            if (++part >= parts.length) {
              throw new WireFormatException(
                  end - base, "truncated gzip stream: the deflate data ends early");
            }
            inflater.setInput(usable(parts[part]));
            continue;
          }
          if (inflater.needsDictionary()) {
            throw new WireFormatException(
                dataStart - base + inflater.getBytesRead(),
                "corrupt gzip stream: deflate data asks for a preset dictionary");
          }
          ByteBuffer dst = out.writable();
          int start = dst.position();
          long readBefore = inflater.getBytesRead();
          int n;
          try {
            n = inflater.inflate(dst);
          } catch (DataFormatException e) {
            throw new WireFormatException(
                dataStart - base + inflater.getBytesRead(),
                "corrupt gzip stream: " + e.getMessage(),
                e);
          }
          if (n > 0) {
            dst.limit(start + n).position(start);
            crc.update(dst);
            out.advance(n);
          } else if (inflater.getBytesRead() == readBefore
              && !inflater.finished()
              && !inflater.needsInput()) {
            throw new WireFormatException(
                dataStart - base + readBefore, "corrupt gzip stream: no progress");
          }
        }
        long trailer = dataStart + inflater.getBytesRead();
        if (end - trailer < GZIP_TRAILER) {
          throw new WireFormatException(
              end - base, "truncated gzip stream: the trailer is missing");
        }
        int t = (int) trailer;
        if (input.getIntLE(t) != (int) crc.getValue()) {
          throw new WireFormatException(t - base, "corrupt gzip stream: CRC-32 mismatch");
        }
        if (input.getIntLE(t + 4) != (int) (out.written() - memberStart)) {
          throw new WireFormatException(t + 4 - base, "corrupt gzip stream: length mismatch");
        }
        pos = t + GZIP_TRAILER;
      }
      return out.finish();
    } catch (RuntimeException | Error e) {
      out.release();
      throw e;
    } finally {
      inflater.end();
    }
  }

  /** Checks the member header at {@code pos} and returns where its deflate data begins. */
  private static int gzipHeader(ByteBuf in, int base, int pos, int end) {
    if (end - pos < GZIP_HEADER) {
      throw new WireFormatException(pos - base, "truncated gzip stream: the header is cut short");
    }
    if (in.getUnsignedByte(pos) != 0x1f || in.getUnsignedByte(pos + 1) != 0x8b) {
      throw new WireFormatException(pos - base, "not a gzip stream: bad magic number");
    }
    if (in.getUnsignedByte(pos + 2) != 8) {
      throw new WireFormatException(
          pos + 2 - base,
          "unsupported gzip compression method "
              + in.getUnsignedByte(pos + 2)
              + " (only 8, deflate)");
    }
    int flags = in.getUnsignedByte(pos + 3);
    if ((flags & 0xE0) != 0) {
      throw new WireFormatException(
          pos + 3 - base, "corrupt gzip stream: reserved header flags set");
    }
    int p = pos + GZIP_HEADER;
    if ((flags & FEXTRA) != 0) {
      if (end - p < 2) {
        throw new WireFormatException(
            p - base, "truncated gzip stream: the extra field is cut short");
      }
      int xlen = in.getUnsignedShortLE(p);
      p += 2;
      if (end - p < xlen) {
        throw new WireFormatException(
            p - base, "truncated gzip stream: the extra field is cut short");
      }
      p += xlen;
    }
    if ((flags & FNAME) != 0) {
      p = afterZeroTerminated(in, base, p, end, "file name");
    }
    if ((flags & FCOMMENT) != 0) {
      p = afterZeroTerminated(in, base, p, end, "comment");
    }
    if ((flags & FHCRC) != 0) {
      if (end - p < 2) {
        throw new WireFormatException(
            p - base, "truncated gzip stream: the header CRC is cut short");
      }
      CRC32 crc = new CRC32();
      for (int i = pos; i < p; i++) {
        crc.update(in.getByte(i));
      }
      if (in.getUnsignedShortLE(p) != (int) (crc.getValue() & 0xFFFF)) {
        throw new WireFormatException(p - base, "corrupt gzip stream: header CRC-16 mismatch");
      }
      p += 2;
    }
    return p;
  }

  private static int afterZeroTerminated(ByteBuf in, int base, int p, int end, String what) {
    int zero = in.forEachByte(p, end - p, ByteProcessor.FIND_NUL);
    if (zero < 0) {
      throw new WireFormatException(
          end - base, "truncated gzip stream: the header " + what + " is not terminated");
    }
    return zero + 1;
  }

  // ---------------------------------------------------------------- zstd

  private static ByteBuf unzstd(ByteBuf input, ByteBufAllocator alloc, long limit) {
    int base = input.readerIndex();
    int length = input.readableBytes();
    if (length == 0) {
      throw new WireFormatException(0, "empty zstd stream");
    }
    DecompressedOutput out =
        new DecompressedOutput(alloc, limit, zstdContentSize(input), length, HINT_RATIO);
    ZstdDecompressCtx ctx = null;
    long consumed = 0;
    try {
      ctx = new ZstdDecompressCtx();
      int windowLog = 64 - Long.numberOfLeadingZeros(Math.max(1, limit - 1));
      ctx.setLongMax(Math.max(ZSTD_MIN_WINDOW_LOG, Math.min(ZSTD_MAX_WINDOW_LOG, windowLog)));
      boolean frameDone = false;
      for (ByteBuffer part : input.nioBuffers(base, length)) {
        ByteBuffer src = usable(part);
        while (src.hasRemaining()) {
          ByteBuffer dst = out.writable();
          int dstStart = dst.position();
          int srcStart = src.position();
          frameDone = ctx.decompressByteBufferStream(dst, src);
          int produced = dst.position() - dstStart;
          consumed += src.position() - srcStart;
          out.advance(produced);
          if (produced == 0 && src.position() == srcStart) {
            throw new WireFormatException(consumed, "corrupt zstd stream: no progress");
          }
        }
      }
      ByteBuffer empty = ByteBuffer.allocate(0);
      while (!frameDone) {
        ByteBuffer dst = out.writable();
        int dstStart = dst.position();
        frameDone = ctx.decompressByteBufferStream(dst, empty);
        int produced = dst.position() - dstStart;
        out.advance(produced);
        if (produced == 0 && !frameDone) {
          throw new WireFormatException(length, "truncated zstd stream: the frame ends early");
        }
      }
      return out.finish();
    } catch (ZstdException e) {
      out.release();
      throw new WireFormatException(consumed, "corrupt zstd stream: " + e.getMessage(), e);
    } catch (RuntimeException | Error e) {
      out.release();
      throw e;
    } finally {
      if (ctx != null) {
        ctx.close();
      }
    }
  }

  /**
   * The first frame's declared content size, or -1 when unknown or unreadable: a hint, never
   * trusted.
   */
  private static long zstdContentSize(ByteBuf input) {
    byte[] header = new byte[Math.min(18, input.readableBytes())];
    input.getBytes(input.readerIndex(), header);
    try {
      long size = Zstd.getFrameContentSize(header, 0, header.length);
      return size >= 0 ? size : -1;
    } catch (RuntimeException e) {
      return -1;
    }
  }

  /** {@code buffer} if the codecs can read it (direct or array-backed), else a heap copy. */
  private static ByteBuffer usable(ByteBuffer buffer) {
    if (buffer.isDirect() || buffer.hasArray()) {
      return buffer;
    }
    ByteBuffer copy = ByteBuffer.allocate(buffer.remaining());
    copy.put(buffer.duplicate()).flip();
    return copy;
  }
}
