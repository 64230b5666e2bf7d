package io.otlp4j.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The output of one {@link RequestEditor} edit while it is being made: a list of pieces, each a
 * range of the input or of one heap buffer of new bytes, turned into a composite of retained slices
 * at the end.
 *
 * <p>A container (a {@code Resource*}, a span, ...) is opened with a <em>hole</em> for its length
 * prefix, which is only known once its content is; {@link #close} then either rolls its pieces back
 * into one slice of the input (nothing inside changed), or writes its new prefix into the hole.
 * Adjacent pieces of one source join, so that untouched runs stay one slice however many elements
 * they span.
 *
 * <h2>Buffer ownership</h2>
 *
 * Holds one heap buffer of new bytes from the input's allocator, released by {@link #release()}
 * (always, in a {@code finally}); {@link #finish} returns a buffer the caller owns, holding
 * retained slices of the input and of that buffer ({@link #finishContiguous}: a copy). The input is
 * only read. Not thread-safe: one edit at a time, {@link #start} to {@link #release}; reused.
 */
final class EditOutput {
  private static final int INPUT = 0;
  private static final int OUT = 1;

  /** A container's prefix, written once its content is known; holds the marks to roll back to. */
  private static final int HOLE = 2;

  /**
   * A changed container of at most this many bytes is copied whole rather than sliced (see {@link
   * #copyWhole}).
   */
  static final int COPY_LIMIT = 1024;

  private ByteBuf input;

  /**
   * The input as the editor reads it ({@code WireReader.view}): piece positions are its indexes.
   */
  private ByteBuffer view;

  /** The index of the input's first readable byte in the positions pieces use. */
  private int base;

  private ByteBuf out;
  private int[] pieces = new int[3 * 64];
  private int pieceCount;

  /** Bytes of output so far. */
  private int emitted;

  /** Where {@link #copyWhole} keeps a container's new bytes while it rewrites them. */
  private byte[] scratch = new byte[256];

  EditOutput() {}

  /**
   * Starts the output of one edit of {@code input}, read through {@code view} (whose index {@code
   * base} is the input's first readable byte); the piece list and scratch are reused.
   */
  void start(ByteBuf input, ByteBuffer view, int base) {
    this.input = input;
    this.view = view;
    this.base = base;
    this.pieceCount = 0;
    this.emitted = 0;
    this.out = input.alloc().heapBuffer(256);
  }

  /**
   * The edited request: the input itself (as a retained slice) when nothing changed, else the
   * pieces. The caller owns the result.
   */
  ByteBuf finish(boolean changed) {
    return changed ? assemble() : input.retainedSlice();
  }

  /**
   * As {@link #finish}, but a changed request comes out as one direct buffer of exactly its size,
   * the pieces copied into it. The caller owns the result.
   */
  ByteBuf finishContiguous(boolean changed) {
    if (!changed) {
      return input.retainedSlice();
    }
    ByteBuf result = input.alloc().directBuffer(emitted, emitted);
    try {
      int readerIndex = input.readerIndex();
      for (int i = 0; i < pieceCount; i++) {
        int start = pieces[3 * i + 1];
        int length = pieces[3 * i + 2];
        if (pieces[3 * i] == INPUT) {
          result.writeBytes(input, readerIndex + start - base, length);
        } else {
          result.writeBytes(out, start, length);
        }
      }
      return result;
    } catch (RuntimeException | Error e) {
      result.release();
      throw e;
    }
  }

  /**
   * Releases the buffer of new bytes (the result's slices keep what they need of it) and forgets
   * the input.
   */
  void release() {
    out.release();
    out = null;
    input = null;
    view = null;
  }

  /** A new field (one-byte {@code tag}, length, {@code content}) as the next piece. */
  void newField(int tag, byte[] content) {
    int at = out.writerIndex();
    out.writeByte(tag);
    RequestSplitter.writeVarint(out, content.length);
    out.writeBytes(content);
    outPiece(at, out.writerIndex() - at);
  }

  /**
   * A new field (one-byte {@code tag}, length, {@code content[offset, offset + length)}) as the
   * next piece.
   */
  void newField(int tag, byte[] content, int offset, int length) {
    int at = out.writerIndex();
    out.writeByte(tag);
    RequestSplitter.writeVarint(out, length);
    out.writeBytes(content, offset, length);
    outPiece(at, out.writerIndex() - at);
  }

  private ByteBuf assemble() {
    int readerIndex = input.readerIndex();
    if (pieceCount == 1 && pieces[0] == INPUT) {
      return input.retainedSlice(readerIndex + pieces[1] - base, pieces[2]);
    }
    CompositeByteBuf result = input.alloc().compositeBuffer(Math.max(2, pieceCount));
    try {
      for (int i = 0; i < pieceCount; i++) {
        int start = pieces[3 * i + 1];
        int length = pieces[3 * i + 2];
        result.addComponent(
            true,
            pieces[3 * i] == INPUT
                ? input.retainedSlice(readerIndex + start - base, length)
                : out.retainedSlice(start, length));
      }
      return result;
    } catch (RuntimeException | Error e) {
      result.release();
      throw e;
    }
  }

  /** Opens a container: a hole for its prefix; returns the hole's index for {@link #close}. */
  int open() {
    return add(HOLE, emitted, out.writerIndex());
  }

  /** Forgets everything since {@code hole} was opened, the hole included (a dropped container). */
  void rollback(int hole) {
    emitted = pieces[3 * hole + 1];
    out.writerIndex(pieces[3 * hole + 2]);
    pieceCount = hole;
  }

  /**
   * Closes a container: unchanged, it is one slice of the input again; changed, it gets a new
   * prefix.
   */
  boolean close(int hole, int tag, int tagPos, int end, boolean changed) {
    if (!changed) {
      rollback(hole);
      inputPiece(tagPos, end);
      return false;
    }
    closeChanged(hole, tag);
    return true;
  }

  /**
   * Closes a changed container: its new prefix, or, when it is small, all of it copied (see {@link
   * #copyWhole}).
   */
  void closeChanged(int hole, int tag) {
    int length = emitted - pieces[3 * hole + 1];
    if (length <= COPY_LIMIT) {
      copyWhole(hole, tag, length);
      return;
    }
    int at = out.writerIndex();
    out.writeByte(tag); // every tag here is a field below 16: one byte
    RequestSplitter.writeVarint(out, length);
    int n = out.writerIndex() - at;
    pieces[3 * hole] = OUT;
    pieces[3 * hole + 1] = at;
    pieces[3 * hole + 2] = n;
    emitted += n;
  }

  /**
   * Writes a small changed container whole (prefix, then its pieces copied) into {@code out} where
   * its own new bytes began, as one piece: a changed span costs one copy of at most {@link
   * #COPY_LIMIT} bytes instead of a handful of slices, and neighbouring changed ones join into one
   * piece.
   */
  private void copyWhole(int hole, int tag, int length) {
    int emittedMark = pieces[3 * hole + 1];
    int outMark = pieces[3 * hole + 2];
    // The children's new bytes (all written since the container opened) are about to be
    // overwritten:
    // keep them aside first; they are few (added attributes, nested prefixes).
    int fresh = out.writerIndex() - outMark;
    if (fresh > scratch.length) {
      scratch = new byte[Math.max(fresh, 2 * scratch.length)];
    }
    out.getBytes(outMark, scratch, 0, fresh);
    out.writerIndex(outMark);
    out.ensureWritable(6 + length);
    if (out.hasArray()) {
      copyWholeIntoArray(hole, tag, length, outMark);
    } else {
      out.writeByte(tag);
      RequestSplitter.writeVarint(out, length);
      int readerIndex = input.readerIndex();
      for (int i = hole + 1; i < pieceCount; i++) {
        int start = pieces[3 * i + 1];
        int n = pieces[3 * i + 2];
        if (pieces[3 * i] == INPUT) {
          out.writeBytes(input, readerIndex + start - base, n);
        } else {
          out.writeBytes(scratch, start - outMark, n);
        }
      }
    }
    pieceCount = hole;
    emitted = emittedMark;
    outPiece(outMark, out.writerIndex() - outMark);
  }

  /**
   * {@link #copyWhole}'s copy into the new bytes' array itself (room for it already ensured): one
   * bulk copy per piece straight from the input's view, without the per-call index and
   * reference-count checks of {@code ByteBuf.writeBytes}, which cost more than the copying of a
   * span's few hundred bytes ({@code ProcessorBenchmark.attributes_processor}).
   */
  private void copyWholeIntoArray(int hole, int tag, int length, int outMark) {
    byte[] a = out.array();
    int offset = out.arrayOffset();
    int w = offset + outMark;
    a[w++] = (byte) tag; // every tag here is a field below 16: one byte
    int v = length;
    while ((v & ~0x7F) != 0) {
      a[w++] = (byte) ((v & 0x7F) | 0x80);
      v >>>= 7;
    }
    a[w++] = (byte) v;
    for (int i = hole + 1; i < pieceCount; i++) {
      int start = pieces[3 * i + 1];
      int n = pieces[3 * i + 2];
      if (pieces[3 * i] == INPUT) {
        view.get(start, a, w, n);
      } else {
        System.arraycopy(scratch, start - outMark, a, w, n);
      }
      w += n;
    }
    out.writerIndex(w - offset);
  }

  /**
   * Input bytes {@code [start, end)} as the next piece (joined to the previous one when adjacent).
   */
  void inputPiece(int start, int end) {
    piece(INPUT, start, end - start);
  }

  private void outPiece(int start, int length) {
    piece(OUT, start, length);
  }

  private void piece(int source, int start, int length) {
    if (length == 0) {
      return;
    }
    emitted += length;
    int last = 3 * (pieceCount - 1);
    if (last >= 0 && pieces[last] == source && pieces[last + 1] + pieces[last + 2] == start) {
      pieces[last + 2] += length;
      return;
    }
    add(source, start, length);
  }

  private int add(int source, int start, int length) {
    int at = 3 * pieceCount;
    if (at + 3 > pieces.length) {
      pieces = Arrays.copyOf(pieces, pieces.length * 2);
    }
    pieces[at] = source;
    pieces[at + 1] = start;
    pieces[at + 2] = length;
    return pieceCount++;
  }
}
