package io.otlp4j.relay;

import io.otlp4j.wire.OtlpJson;
import io.otlp4j.wire.Signal;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Transcodes one protobuf export request into one OTLP/JSON line, a large request in pieces on
 * several threads: the {@code file} exporter's JSON path.
 *
 * <h2>Pieces</h2>
 *
 * An export request is one repeated field ({@code resourceSpans}, {@code resourceMetrics} or {@code
 * resourceLogs}), so any run of its elements is itself a valid request, and the JSON of each
 * element does not depend on its neighbours. A request of at least two {@link #MIN_PIECE_BYTES}
 * worth of bytes is cut at element boundaries into up to {@code threads} pieces of about equal
 * size; each piece is transcoded on its own into {@code {"resourceSpans":[A,B]}}, and the line is
 * the pieces stitched together: the first without its closing {@code ]}}, the others without their
 * opening {@code {"resourceSpans":[} and closing {@code ]}}, joined by commas, then {@code ]}} and
 * the newline. The line is byte for byte what {@link OtlpJson#toJson} writes for the whole request
 * ({@code JsonLineTranscoderTest}); where a request has anything else at its top level (unknown
 * fields, a malformed tag) it is transcoded in one piece, as before.
 *
 * <h2>Threads</h2>
 *
 * The caller transcodes the first piece itself and offers the others to a pool of {@code threads -
 * 1} daemon threads (idle ones end after {@link #IDLE_SECONDS}); then it runs itself every piece no
 * pool thread has started yet ({@link FutureTask#run} is a no-op on a started task), and waits only
 * for pieces already under way. So a busy or shut-down pool never blocks an export, and the pool's
 * queue ({@link #POOL_QUEUE} tasks) is bounded: an offer it refuses is simply run by the caller.
 * One line is still one request, in order: only its transcoding is spread.
 *
 * <h2>Memory</h2>
 *
 * Each piece is transcoded into a {@link LineBuffer} taken from a pool of at most {@link
 * #MAX_POOLED_BUFFERS}; a buffer that grew past {@link #MAX_POOLED_BUFFER_BYTES} serves its line
 * and is dropped, so what stays between requests is bounded by their product.
 *
 * <p>Thread-safe: any number of callers at once.
 */
final class JsonLineTranscoder {

  /**
   * A piece is at least this many protobuf bytes: below it, a thread hop costs more than it saves.
   */
  static final int MIN_PIECE_BYTES = 64 * 1024;

  /** Line buffers kept for reuse between requests. */
  static final int MAX_POOLED_BUFFERS = 8;

  /** A line buffer that grew past this many bytes is not kept. */
  static final int MAX_POOLED_BUFFER_BYTES = 32 * 1024 * 1024;

  /** Pieces waiting for a pool thread; more are run by their caller. */
  static final int POOL_QUEUE = 64;

  /** A pool thread idle this long ends. */
  static final long IDLE_SECONDS = 30;

  private static final byte[] NEWLINE = {'\n'};
  private static final byte[] COMMA = {','};
  private static final byte[] CLOSE_NEWLINE = {']', '}', '\n'};
  private static final AtomicInteger POOLS = new AtomicInteger();

  private final int threads;
  private final ThreadPoolExecutor pool; // null with one thread
  private final ConcurrentLinkedQueue<LineBuffer> buffers = new ConcurrentLinkedQueue<>();

  /**
   * @param threads the most threads that transcode one request (the caller's included); 1
   *     transcodes every request on its caller's thread
   */
  JsonLineTranscoder(int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be positive, was " + threads);
    }
    this.threads = threads;
    if (threads == 1) {
      pool = null;
    } else {
      int n = POOLS.incrementAndGet();
      AtomicInteger thread = new AtomicInteger();
      pool =
          new ThreadPoolExecutor(
              threads - 1,
              threads - 1,
              IDLE_SECONDS,
              TimeUnit.SECONDS,
              new ArrayBlockingQueue<>(POOL_QUEUE),
              r -> {
                Thread t = new Thread(r, "otlp4j-file-json-" + n + "-" + thread.incrementAndGet());
                t.setDaemon(true);
                return t;
              },
              (r, executor) -> {
                // Refused (queue full, or shut down): the caller runs the piece itself.
              });
      pool.allowCoreThreadTimeOut(true);
    }
  }

  int threads() {
    return threads;
  }

  /** Stops the pool's threads; later requests are transcoded on their callers' threads. */
  void shutdown() {
    if (pool != null) {
      pool.shutdown();
    }
  }

  /**
   * Transcodes {@code protobuf[offset, offset + length)}, a {@code signal} request, into a line
   * (its newline included). The caller keeps the array, which must not change until this returns,
   * and must {@link Line#release} the line.
   *
   * @throws IOException or a {@link RuntimeException} (a {@code WireFormatException}) where the
   *     bytes are not a valid request; nothing is left held then
   */
  Line transcode(Signal signal, byte[] protobuf, int offset, int length) throws IOException {
    int[] cuts = threads == 1 ? null : cuts(protobuf, offset, length, threads);
    if (cuts == null) {
      return whole(signal, protobuf, offset, length);
    }
    int pieces = cuts.length - 1;
    List<FutureTask<LineBuffer>> tasks = new ArrayList<>(pieces - 1);
    for (int i = 1; i < pieces; i++) {
      int start = cuts[i];
      int end = cuts[i + 1];
      FutureTask<LineBuffer> task = new FutureTask<>(() -> piece(signal, protobuf, start, end));
      tasks.add(task);
      pool.execute(task);
    }
    LineBuffer[] done = new LineBuffer[pieces];
    Throwable failure = null;
    try {
      done[0] = piece(signal, protobuf, cuts[0], cuts[1]);
    } catch (IOException | RuntimeException | Error e) {
      failure = e;
    }
    for (int i = 0; i < tasks.size(); i++) {
      FutureTask<LineBuffer> task = tasks.get(i);
      task.run(); // does nothing where a pool thread started it
      try {
        done[i + 1] = task.get();
      } catch (ExecutionException e) {
        failure = failure == null ? e.getCause() : failure;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        failure = failure == null ? e : failure;
      }
    }
    if (failure != null) {
      for (LineBuffer b : done) {
        if (b != null) {
          offer(b);
        }
      }
      throw rethrow(failure);
    }
    Line line = stitch(done);
    if (line == null) {
      // Not the shape every piece of a request has (never seen): the whole request, in one piece.
      for (LineBuffer b : done) {
        offer(b);
      }
      return whole(signal, protobuf, offset, length);
    }
    return line;
  }

  private static IOException rethrow(Throwable failure) {
    if (failure instanceof IOException io) {
      return io;
    }
    if (failure instanceof RuntimeException r) {
      throw r;
    }
    if (failure instanceof Error e) {
      throw e;
    }
    return new IOException(failure);
  }

  private Line whole(Signal signal, byte[] protobuf, int offset, int length) throws IOException {
    LineBuffer b = piece(signal, protobuf, offset, offset + length);
    Line line = new Line(this, new LineBuffer[] {b}, 2);
    line.add(b.bytes(), 0, b.size());
    line.add(NEWLINE, 0, 1);
    return line;
  }

  /**
   * The pieces as one line, or null where one of them does not start with the first's {@code
   * {"key":[} or does not end with {@code ]}}.
   */
  private Line stitch(LineBuffer[] done) {
    byte[] first = done[0].bytes();
    int prefix = -1;
    for (int i = 0; i < done[0].size(); i++) {
      if (first[i] == '[') {
        prefix = i + 1;
        break;
      }
    }
    if (prefix < 0) {
      return null;
    }
    for (LineBuffer b : done) {
      int size = b.size();
      if (size < prefix + 2
          || b.bytes()[size - 2] != ']'
          || b.bytes()[size - 1] != '}'
          || !Arrays.equals(b.bytes(), 0, prefix, first, 0, prefix)) {
        return null;
      }
    }
    Line line = new Line(this, done, 2 * done.length + 1);
    line.add(first, 0, done[0].size() - 2);
    for (int i = 1; i < done.length; i++) {
      line.add(COMMA, 0, 1);
      line.add(done[i].bytes(), prefix, done[i].size() - 2 - prefix);
    }
    line.add(CLOSE_NEWLINE, 0, CLOSE_NEWLINE.length);
    return line;
  }

  private LineBuffer piece(Signal signal, byte[] protobuf, int start, int end) throws IOException {
    LineBuffer b = buffers.poll();
    if (b == null) {
      b = new LineBuffer();
    }
    b.reset();
    try {
      OtlpJson.toJson(signal, protobuf, start, end - start, b);
      return b;
    } catch (IOException | RuntimeException | Error e) {
      offer(b);
      throw e;
    }
  }

  private void offer(LineBuffer b) {
    if (b.bytes().length <= MAX_POOLED_BUFFER_BYTES && buffers.size() < MAX_POOLED_BUFFERS) {
      buffers.offer(b);
    }
  }

  /** Line buffers held between requests (for tests). */
  int pooledBuffers() {
    return buffers.size();
  }

  /** Bytes held between requests (for tests). */
  long pooledBytes() {
    long n = 0;
    for (LineBuffer b : buffers) {
      n += b.bytes().length;
    }
    return n;
  }

  /**
   * Where to cut {@code protobuf[offset, offset + length)} into pieces: the start of each piece,
   * then the end of the last; null when it is not worth it (fewer than two {@link
   * #MIN_PIECE_BYTES}, fewer than two elements) or the top level holds anything but elements of
   * field 1 (then one piece decides, as the transcoder always did).
   */
  static int[] cuts(byte[] protobuf, int offset, int length, int threads) {
    int pieces = (int) Math.min(threads, length / MIN_PIECE_BYTES);
    if (pieces < 2) {
      return null;
    }
    int end = offset + length;
    long target = (long) length / pieces;
    int[] cuts = new int[pieces + 1];
    int n = 0;
    cuts[n++] = offset;
    int pos = offset;
    while (pos < end) {
      if (protobuf[pos] != 0x0A) { // field 1, length-delimited
        return null;
      }
      int p = pos + 1;
      long len = 0;
      int shift = 0;
      while (true) {
        if (p >= end || shift > 28) {
          return null;
        }
        byte b = protobuf[p++];
        len |= (long) (b & 0x7F) << shift;
        if (b >= 0) {
          break;
        }
        shift += 7;
      }
      if (len > end - p) {
        return null;
      }
      pos = p + (int) len;
      if (n < pieces && pos < end && pos - offset >= target * n) {
        cuts[n++] = pos;
      }
    }
    if (n < 2) {
      return null; // one element
    }
    int[] result = Arrays.copyOf(cuts, n + 1);
    result[n] = end;
    return result;
  }

  /**
   * One request's JSON line as segments of arrays, written in order; holds its pieces' buffers
   * until {@link #release}. Used by one thread at a time.
   */
  static final class Line {
    private final JsonLineTranscoder owner;
    private final LineBuffer[] held;
    private final byte[][] arrays;
    private final int[] offsets;
    private final int[] lengths;
    private int segments;
    private long length;

    private Line(JsonLineTranscoder owner, LineBuffer[] held, int capacity) {
      this.owner = owner;
      this.held = held;
      this.arrays = new byte[capacity][];
      this.offsets = new int[capacity];
      this.lengths = new int[capacity];
    }

    private void add(byte[] array, int offset, int length) {
      arrays[segments] = array;
      offsets[segments] = offset;
      lengths[segments] = length;
      segments++;
      this.length += length;
    }

    /** Bytes in the line, its newline included. */
    long length() {
      return length;
    }

    int segments() {
      return segments;
    }

    /** Writes the line to {@code out} in slices of at most {@code slice} bytes. */
    void writeTo(OutputStream out, int slice) throws IOException {
      for (int s = 0; s < segments; s++) {
        int off = offsets[s];
        int end = off + lengths[s];
        while (off < end) {
          int n = Math.min(slice, end - off);
          out.write(arrays[s], off, n);
          off += n;
        }
      }
    }

    /** The line as one array (for tests). */
    byte[] toByteArray() {
      java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
      try {
        writeTo(out, Integer.MAX_VALUE);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return out.toByteArray();
    }

    /** Gives the pieces' buffers back; the line must not be used after. */
    void release() {
      for (LineBuffer b : held) {
        owner.offer(b);
      }
    }
  }

  /**
   * A growable byte sink whose array is read in place (unlike {@code ByteArrayOutputStream}, no
   * copy out). Used by one thread at a time.
   */
  static final class LineBuffer extends OutputStream {
    private byte[] buf = new byte[64 * 1024];
    private int size;

    void reset() {
      size = 0;
    }

    byte[] bytes() {
      return buf;
    }

    int size() {
      return size;
    }

    private void ensure(int more) {
      int needed = size + more;
      if (needed < 0 || needed > Integer.MAX_VALUE - 8) {
        throw new IllegalStateException("a JSON line over 2 GiB");
      }
      if (needed > buf.length) {
        buf =
            Arrays.copyOf(
                buf, (int) Math.min(Integer.MAX_VALUE - 8, Math.max(needed, buf.length * 2L)));
      }
    }

    @Override
    public void write(int b) {
      ensure(1);
      buf[size++] = (byte) b;
    }

    @Override
    public void write(byte[] b, int off, int len) {
      ensure(len);
      System.arraycopy(b, off, buf, size, len);
      size += len;
    }
  }
}
