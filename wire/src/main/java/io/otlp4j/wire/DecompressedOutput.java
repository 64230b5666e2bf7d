package io.otlp4j.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import java.nio.ByteBuffer;

/**
 * Where a decompressor writes: a list of chunks allocated on demand whose capacities together never
 * exceed the limit plus one byte, so output past the limit is detected (the one spare byte fills)
 * without a byte more being allocated.
 *
 * <h2>Chunk sizes</h2>
 *
 * The first chunk is sized from a hint (the stream's declared size plus one, capped in proportion
 * to the input, or four times the input when nothing is declared), so a typical payload
 * decompresses into one contiguous buffer; later chunks double the total so far, up to {@link
 * #MAX_CHUNK} each. No chunk is ever copied or grown, and every chunk is clamped to what is left of
 * the budget.
 *
 * <h2>Buffer ownership</h2>
 *
 * The chunks belong to this object until {@link #finish()} hands them to the caller as one buffer;
 * {@link #release()} frees them after a failure. Not thread-safe.
 */
final class DecompressedOutput {
  static final int MIN_CHUNK = 4096;
  static final int MAX_CHUNK = 4 << 20;

  private final ByteBufAllocator alloc;
  private final long limit;
  private final long budget; // limit + 1: the most capacity ever allocated
  private ByteBuf[] chunks = new ByteBuf[4];
  private int count;
  private long allocated;
  private long written;
  private int nextChunk;

  /**
   * @param declaredSize the size the stream declares (gzip's ISIZE, zstd's content size), or a
   *     negative number when it declares none: a hint, capped at {@code maxRatio} times the input
   * @param inputSize the compressed size
   */
  DecompressedOutput(
      ByteBufAllocator alloc, long limit, long declaredSize, int inputSize, int maxRatio) {
    this.alloc = alloc;
    this.limit = limit;
    this.budget = limit + 1;
    long guess =
        declaredSize >= 0
            // One byte more than declared, so a decoder that fills its buffer exactly can report
            // its end
            // without a second chunk.
            ? Math.min(declaredSize + 1, (long) maxRatio * inputSize)
            : 4L * inputSize;
    this.nextChunk = (int) Math.max(MIN_CHUNK, Math.min(guess, MAX_CHUNK));
  }

  /**
   * A writable view of the current chunk with at least one byte of room, allocating a chunk if
   * needed. Write into it, then call {@link #advance(int)} with the number of bytes written.
   */
  ByteBuffer writable() {
    ByteBuf chunk = count == 0 ? null : chunks[count - 1];
    if (chunk == null || !chunk.isWritable()) {
      long room = budget - allocated;
      // room > 0 always holds: advance() throws as soon as written exceeds limit, i.e. fills the
      // budget.
      int size = (int) Math.min(nextChunk, room);
      chunk = alloc.buffer(size, size);
      if (count == chunks.length) {
        chunks = java.util.Arrays.copyOf(chunks, count * 2);
      }
      chunks[count++] = chunk;
      allocated += size;
      nextChunk = (int) Math.min(MAX_CHUNK, Math.max(allocated, MIN_CHUNK));
    }
    return chunk.internalNioBuffer(chunk.writerIndex(), chunk.writableBytes());
  }

  /**
   * Records {@code n} bytes written into the last view from {@link #writable()}.
   *
   * @throws WireFormatException when the output now exceeds the limit
   */
  void advance(int n) {
    if (n == 0) {
      return;
    }
    ByteBuf chunk = chunks[count - 1];
    chunk.writerIndex(chunk.writerIndex() + n);
    written += n;
    if (written > limit) {
      throw limitExceeded(limit);
    }
  }

  long written() {
    return written;
  }

  /**
   * Hands the output to the caller, who must release it: one chunk as it is, several as a
   * composite.
   */
  ByteBuf finish() {
    // A chunk allocated only for the decoder to report its end holds nothing: drop it.
    int kept = 0;
    for (int i = 0; i < count; i++) {
      ByteBuf chunk = chunks[i];
      chunks[i] = null;
      if (chunk.isReadable()) {
        chunks[kept++] = chunk;
      } else {
        chunk.release();
      }
    }
    count = kept;
    if (count == 0) {
      return alloc.buffer(0, 0);
    }
    if (count == 1) {
      ByteBuf only = chunks[0];
      chunks[0] = null;
      count = 0;
      return only;
    }
    CompositeByteBuf composite = alloc.compositeBuffer(count);
    try {
      for (int i = 0; i < count; i++) {
        ByteBuf chunk = chunks[i];
        chunks[i] = null; // the composite owns it from here, even if adding fails
        composite.addComponent(true, chunk);
      }
    } catch (RuntimeException e) {
      composite.release();
      throw e;
    } finally {
      release();
    }
    return composite;
  }

  /** Releases every chunk not handed out; safe to call more than once. */
  void release() {
    for (int i = 0; i < count; i++) {
      if (chunks[i] != null) {
        chunks[i].release();
        chunks[i] = null;
      }
    }
    count = 0;
  }

  static WireFormatException limitExceeded(long limit) {
    return new WireFormatException(
        -1, "decompressed size exceeds the limit of " + limit + " bytes");
  }
}
