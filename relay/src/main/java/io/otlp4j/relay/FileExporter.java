package io.otlp4j.relay;

import io.netty.buffer.ByteBuf;
import io.otlp4j.core.Outcome;
import io.otlp4j.wire.Signal;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

/**
 * The {@code file} exporter, the relay's embedded default: writes every export request as one line
 * of OTLP/JSON (as the OpenTelemetry Collector's file exporter does), or with {@link Format#PROTO}
 * as the request's protobuf bytes preceded by their length as a 4-byte big-endian unsigned integer
 * (the Collector's {@code format: proto} framing), to a file that is rotated when it grows past a
 * size, keeping a bounded number of rotated files (and, optionally, none older than a maximum age).
 *
 * <p>Two layouts: {@link Builder#path(Path) one file} for every signal (the Collector's {@code
 * path}), or {@link Builder#directory(Path) a directory} with {@code traces.jsonl}, {@code
 * metrics.jsonl} and {@code logs.jsonl} ({@code .binpb} for protobuf). A rotated file is renamed
 * {@code NAME-yyyyMMdd'T'HHmmss.SSS-NNN.EXT} next to it (the stamp in UTC unless {@link
 * Builder#localTime}); the oldest rotated files beyond {@link Builder#maxBackups(int)}, and those
 * last written more than {@link Builder#maxAge} ago, are deleted at each rotation.
 *
 * <p>Each request is flushed to the operating system when written (no fsync): at least as often as
 * any Collector {@code flush_interval}. An existing file is appended to, or with {@link
 * Builder#append(boolean) append(false)} truncated when the exporter first writes to it. Every
 * {@link Builder#writebackBytes(long)} written, a thread of the exporter's own forces the file
 * ({@link FileWriteback}: without it the kernel writes a whole expired file back at once, and the
 * durable queue's forces on the same disk waited for it); writers never wait for it.
 *
 * <p><b>The JSON path</b> (the embedded default's, so the relay's out-of-the-box throughput): a
 * request (often a batch of megabytes) is transcoded straight from its buffer's array, or from one
 * copy into a reused array when it is direct or composite, by a {@link JsonLineTranscoder}: a large
 * request in pieces (runs of its {@code resource*} elements) on up to {@link
 * Builder#transcodeThreads(int)} threads at once, the caller's included, into reused buffers that
 * are then written as one line, newline included, in {@link #WRITE_SLICE} slices under the file's
 * lock, outside any allocation of the request's size: no per-request {@code byte[]} of the protobuf
 * or of the JSON (which, at batch sizes, are humongous objects for G1 and made its pauses the
 * relay's p99). Transcoding happens outside the file's lock, so signals sharing one {@link
 * Builder#path(Path) path}, and callers exporting at once, transcode in parallel. {@code bench/run
 * main-job-default} and {@code FileExporterBenchmark} measure it.
 *
 * <p><b>Ordering:</b> each request is one line, never split or interleaved with another's bytes,
 * whatever the transcoding threads; lines of one caller follow its calls' order (the durable
 * queue's loop calls one export at a time, so its lines are in queue order). Requests exported at
 * once by several callers (an in-memory queue's consumers, several pipelines sharing a path) are
 * written in whichever order their transcoding ends, as the Collector's {@code file} exporter
 * writes concurrent requests: a line is the unit, not an order across requests.
 *
 * <p><b>Memory:</b> at most {@link #MAX_POOLED_SCRATCH} protobuf copies are kept between requests,
 * and none that grew past {@link #MAX_POOLED_SCRATCH_BYTES}: a larger one serves its request and is
 * dropped; the transcoder's JSON buffers are bounded likewise ({@link
 * JsonLineTranscoder#MAX_POOLED_BUFFERS} of at most {@link
 * JsonLineTranscoder#MAX_POOLED_BUFFER_BYTES}).
 *
 * <p><b>Buffer ownership:</b> {@link #export} releases the request before it returns.
 *
 * <p><b>Thread-safety:</b> thread-safe; writes to one file are serialized by a lock per file.
 */
public final class FileExporter implements RelayExporter {
  private static final System.Logger LOG = System.getLogger(FileExporter.class.getName());

  /** Default size at which a file is rotated (the Collector's default, 100 MiB). */
  public static final long DEFAULT_MAX_BYTES = 100L * 1024 * 1024;

  /**
   * Default for {@link Builder#writebackBytes(long)}: the output is forced each time this much more
   * was written (RocksDB's {@code bytes_per_sync} is commonly set to the same).
   */
  public static final long DEFAULT_WRITEBACK_BYTES = 1024L * 1024;

  /** Default number of rotated files kept (the Collector's default). */
  public static final int DEFAULT_MAX_BACKUPS = 100;

  /**
   * Protobuf copies (of direct or composite requests) kept for reuse: one per thread exporting at
   * once, typically.
   */
  static final int MAX_POOLED_SCRATCH = 4;

  /**
   * Bytes of a JSON line handed to the file in one write: at least the stream's buffer (so slices
   * bypass it), small enough to stay in a CPU cache between the JDK's copy and the kernel's.
   */
  static final int WRITE_SLICE = 256 * 1024;

  /**
   * Default for {@link Builder#transcodeThreads(int)}: the machine's processors, at most 4 (on a
   * 2-core machine the exporter's thread and one more).
   */
  public static final int DEFAULT_TRANSCODE_THREADS =
      Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));

  /** A protobuf copy that grew past this many bytes is not kept. */
  static final int MAX_POOLED_SCRATCH_BYTES = 64 * 1024 * 1024;

  /** How requests are written. */
  public enum Format {
    /** One OTLP/JSON line per request. */
    JSON,
    /** Per request: its length as a 4-byte big-endian unsigned integer, then its protobuf bytes. */
    PROTO
  }

  private static final DateTimeFormatter ROTATED_STAMP =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSS");

  private final String id;
  private final Format format;
  private final Map<Signal, RotatingFile> files = new EnumMap<>(Signal.class);
  private final ConcurrentLinkedQueue<byte[]> scratchPool = new ConcurrentLinkedQueue<>();
  private final JsonLineTranscoder transcoder;

  /** Null when {@link Builder#writebackBytes(long)} is 0. */
  private final FileWriteback writeback;

  private FileExporter(Builder builder) {
    this.id = builder.id;
    this.format = builder.format;
    this.transcoder = new JsonLineTranscoder(builder.transcodeThreads);
    this.writeback = builder.writebackBytes > 0 ? new FileWriteback(id) : null;
    if (builder.path != null) {
      RotatingFile shared = new RotatingFile(builder.path, builder, writeback);
      for (Signal signal : Signal.values()) {
        files.put(signal, shared);
      }
    } else {
      String ext = format == Format.PROTO ? ".binpb" : ".jsonl";
      for (Signal signal : Signal.values()) {
        files.put(
            signal,
            new RotatingFile(builder.directory.resolve(signal.id() + ext), builder, writeback));
      }
    }
  }

  /** A builder for the exporter {@code id}. */
  public static Builder builder(String id) {
    return new Builder(id);
  }

  @Override
  public String id() {
    return id;
  }

  /** The file that {@code signal} is written to now. */
  public Path file(Signal signal) {
    return files.get(signal).path;
  }

  @Override
  public CompletableFuture<Outcome> export(Signal signal, ByteBuf request, long itemCount) {
    if (format == Format.PROTO) {
      try {
        files.get(signal).appendFramed(request);
        return CompletableFuture.completedFuture(Outcome.accepted());
      } catch (RuntimeException | IOException e) {
        LOG.log(
            System.Logger.Level.WARNING,
            () ->
                id
                    + ": could not write "
                    + itemCount
                    + " "
                    + signal.id()
                    + " items to "
                    + files.get(signal).path,
            e);
        return CompletableFuture.completedFuture(
            Outcome.retryable(
                "could not write to " + files.get(signal).path + ": " + e.getMessage()));
      } finally {
        request.release();
      }
    }
    byte[] protobuf = null;
    JsonLineTranscoder.Line line = null;
    try {
      try {
        int length = request.readableBytes();
        if (request.hasArray()) {
          line =
              transcoder.transcode(
                  signal, request.array(), request.arrayOffset() + request.readerIndex(), length);
        } else {
          protobuf = protobufScratch(length);
          request.getBytes(request.readerIndex(), protobuf, 0, length);
          line = transcoder.transcode(signal, protobuf, 0, length);
        }
      } finally {
        request.release();
      }
      files.get(signal).appendLine(line);
      return CompletableFuture.completedFuture(Outcome.accepted());
    } catch (RuntimeException | IOException e) {
      LOG.log(
          System.Logger.Level.WARNING,
          () ->
              id
                  + ": could not write "
                  + itemCount
                  + " "
                  + signal.id()
                  + " items to "
                  + files.get(signal).path,
          e);
      // A local write that failed (a full disk, say) may succeed later: the client may send again.
      return CompletableFuture.completedFuture(
          Outcome.retryable(
              "could not write to " + files.get(signal).path + ": " + e.getMessage()));
    } finally {
      if (line != null) {
        line.release();
      }
      if (protobuf != null
          && protobuf.length <= MAX_POOLED_SCRATCH_BYTES
          && scratchPool.size() < MAX_POOLED_SCRATCH) {
        scratchPool.offer(protobuf);
      }
    }
  }

  /**
   * An array of at least {@code length} bytes for one copy of a direct or composite request (its
   * content is not kept), from the pool or new.
   */
  private byte[] protobufScratch(int length) {
    byte[] a = scratchPool.poll();
    if (a != null && a.length >= length) {
      return a;
    }
    return new byte
        [Math.max(
            length, (int) Math.min(Integer.MAX_VALUE - 8, a == null ? length : a.length * 2L))];
  }

  /** The most threads that transcode one request (for tests and the benchmark). */
  int transcodeThreads() {
    return transcoder.threads();
  }

  /** Forces of the output completed so far by the writeback thread (for tests). */
  long writebacks() {
    return writeback == null ? 0 : writeback.forces();
  }

  /** What the JSON transcoder keeps between requests (for tests). */
  JsonLineTranscoder transcoder() {
    return transcoder;
  }

  @Override
  public CompletableFuture<Void> shutdown(Duration deadline) {
    transcoder.shutdown();
    for (RotatingFile file : files.values()) {
      file.close();
    }
    if (writeback != null) {
      writeback.shutdown(deadline.toMillis());
    }
    return CompletableFuture.completedFuture(null);
  }

  /** One file and its rotation; every method holds the object's lock. */
  private static final class RotatingFile {
    final Path path;
    final long maxBytes;
    final int maxBackups;
    final Duration maxAge;
    final boolean localTime;
    private final FileWriteback writeback;
    private final long writebackBytes;
    private final AtomicBoolean writebackPending = new AtomicBoolean();
    private boolean truncateOnOpen;
    private FileChannel channel;
    private OutputStream out;
    private long size;
    private long unforced;
    private boolean closed;

    RotatingFile(Path path, Builder builder, FileWriteback writeback) {
      this.path = path;
      this.maxBytes = builder.maxBytes;
      this.maxBackups = builder.maxBackups;
      this.maxAge = builder.maxAge;
      this.localTime = builder.localTime;
      this.truncateOnOpen = !builder.append;
      this.writeback = writeback;
      this.writebackBytes = builder.writebackBytes;
    }

    /** Counts {@code bytes} written and flushed; asks for a force every {@link #writebackBytes}. */
    private void written(long bytes) {
      size += bytes;
      unforced += bytes;
      if (writeback != null && unforced >= writebackBytes) {
        unforced = 0;
        writeback.request(channel, writebackPending);
      }
    }

    /**
     * Writes the 4-byte big-endian length of {@code request}, then its bytes; the caller keeps the
     * buffer.
     */
    synchronized void appendFramed(ByteBuf request) throws IOException {
      int length = request.readableBytes();
      prepare(4L + length);
      out.write(length >>> 24);
      out.write(length >>> 16);
      out.write(length >>> 8);
      out.write(length);
      request.getBytes(request.readerIndex(), out, length);
      out.flush();
      written(4L + length);
    }

    private void prepare(long bytes) throws IOException {
      if (closed) {
        throw new IOException("file exporter is shut down");
      }
      if (out == null) {
        open();
      } else if (size > 0 && size + bytes > maxBytes) {
        rotate();
      }
    }

    /**
     * Writes {@code line} (a JSON line, its newline included) whole, and flushes; the caller keeps
     * the line.
     */
    synchronized void appendLine(JsonLineTranscoder.Line line) throws IOException {
      prepare(line.length());
      // In slices: a line is megabytes at batch sizes, and one write of it goes through a direct
      // buffer as large (a copy the size of the line, out of any cache, then the kernel's copy of
      // that); a slice is copied from cache-hot memory each time (perf: half of the exporter
      // thread's time was the kernel's copy before).
      line.writeTo(out, WRITE_SLICE);
      out.flush();
      written(line.length());
    }

    private void open() throws IOException {
      Path parent = path.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      StandardOpenOption mode =
          truncateOnOpen ? StandardOpenOption.TRUNCATE_EXISTING : StandardOpenOption.APPEND;
      truncateOnOpen = false;
      channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE, mode);
      out = new BufferedOutputStream(Channels.newOutputStream(channel), 64 * 1024);
      size = channel.size();
      unforced = 0;
    }

    private void rotate() throws IOException {
      out.close();
      out = null;
      String name = path.getFileName().toString();
      int dot = name.lastIndexOf('.');
      String base = dot > 0 ? name.substring(0, dot) : name;
      String ext = dot > 0 ? name.substring(dot) : "";
      String stamp =
          LocalDateTime.now(localTime ? ZoneId.systemDefault() : ZoneOffset.UTC)
              .format(ROTATED_STAMP);
      // A sequence number after the stamp keeps names unique and in order within one millisecond.
      Path target = path.resolveSibling(base + "-" + stamp + "-000" + ext);
      for (int n = 1; Files.exists(target); n++) {
        target = path.resolveSibling(base + "-" + stamp + "-" + String.format("%03d", n) + ext);
      }
      Files.move(path, target);
      pruneBackups(base, ext);
      open();
    }

    private void pruneBackups(String base, String ext) throws IOException {
      Path dir = path.toAbsolutePath().getParent();
      List<Path> backups = new ArrayList<>();
      try (Stream<Path> list = Files.list(dir)) {
        list.filter(
                p -> {
                  String n = p.getFileName().toString();
                  return n.startsWith(base + "-")
                      && n.endsWith(ext)
                      && !p.equals(path.toAbsolutePath());
                })
            .forEach(backups::add);
      }
      // Names sort by time: the stamp, then the sequence number.
      backups.sort(Comparator.comparing(p -> p.getFileName().toString()));
      int excess = backups.size() - maxBackups;
      long oldest =
          maxAge == null ? Long.MIN_VALUE : System.currentTimeMillis() - maxAge.toMillis();
      for (int i = 0; i < backups.size(); i++) {
        Path backup = backups.get(i);
        if (i < excess
            || (maxAge != null && Files.getLastModifiedTime(backup).toMillis() < oldest)) {
          Files.deleteIfExists(backup);
        }
      }
    }

    synchronized void close() {
      closed = true;
      if (out != null) {
        try {
          out.close();
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        } finally {
          out = null;
        }
      }
    }
  }

  /** Configures a {@link FileExporter}; not thread-safe. */
  public static final class Builder {
    private final String id;
    private Path path;
    private Path directory;
    private long maxBytes = DEFAULT_MAX_BYTES;
    private int maxBackups = DEFAULT_MAX_BACKUPS;
    private Format format = Format.JSON;
    private Duration maxAge;
    private boolean localTime;
    private boolean append = true;
    private int transcodeThreads = DEFAULT_TRANSCODE_THREADS;
    private long writebackBytes = DEFAULT_WRITEBACK_BYTES;

    private Builder(String id) {
      this.id = Objects.requireNonNull(id, "id");
    }

    /** One file for every signal (clears {@link #directory}). */
    public Builder path(Path path) {
      this.path = Objects.requireNonNull(path, "path");
      this.directory = null;
      return this;
    }

    /** One file per signal, {@code <signal>.jsonl}, in {@code directory} (clears {@link #path}). */
    public Builder directory(Path directory) {
      this.directory = Objects.requireNonNull(directory, "directory");
      this.path = null;
      return this;
    }

    /** Size past which a file is rotated (default {@link #DEFAULT_MAX_BYTES}). */
    public Builder maxBytes(long maxBytes) {
      if (maxBytes < 1) {
        throw new IllegalArgumentException("maxBytes must be positive, was " + maxBytes);
      }
      this.maxBytes = maxBytes;
      return this;
    }

    /** Rotated files kept (default {@link #DEFAULT_MAX_BACKUPS}); 0 keeps none. */
    public Builder maxBackups(int maxBackups) {
      if (maxBackups < 0) {
        throw new IllegalArgumentException("maxBackups must not be negative, was " + maxBackups);
      }
      this.maxBackups = maxBackups;
      return this;
    }

    /** How requests are written (default {@link Format#JSON}). */
    public Builder format(Format format) {
      this.format = Objects.requireNonNull(format, "format");
      return this;
    }

    /**
     * Rotated files last written longer ago than this are deleted at the next rotation (default:
     * kept).
     */
    public Builder maxAge(Duration maxAge) {
      if (maxAge != null && (maxAge.isNegative() || maxAge.isZero())) {
        throw new IllegalArgumentException("maxAge must be positive, was " + maxAge);
      }
      this.maxAge = maxAge;
      return this;
    }

    /**
     * Whether rotated files are stamped with the local time rather than UTC (default false, UTC).
     */
    public Builder localTime(boolean localTime) {
      this.localTime = localTime;
      return this;
    }

    /** Whether an existing file is appended to (default) or truncated when first written. */
    public Builder append(boolean append) {
      this.append = append;
      return this;
    }

    /**
     * The most threads that transcode one large JSON request at once, the exporting thread included
     * (default {@link #DEFAULT_TRANSCODE_THREADS}); 1 transcodes on the exporting thread only. The
     * line written is the same either way.
     */
    public Builder transcodeThreads(int transcodeThreads) {
      if (transcodeThreads < 1) {
        throw new IllegalArgumentException(
            "transcodeThreads must be positive, was " + transcodeThreads);
      }
      this.transcodeThreads = transcodeThreads;
      return this;
    }

    /**
     * Forces the output each time this many more bytes were written (default {@link
     * #DEFAULT_WRITEBACK_BYTES}); 0 leaves the write-back to the kernel.
     */
    public Builder writebackBytes(long writebackBytes) {
      if (writebackBytes < 0) {
        throw new IllegalArgumentException(
            "writebackBytes must not be negative, was " + writebackBytes);
      }
      this.writebackBytes = writebackBytes;
      return this;
    }

    public FileExporter build() {
      if (path == null && directory == null) {
        throw new IllegalStateException("set path or directory");
      }
      return new FileExporter(this);
    }
  }
}
