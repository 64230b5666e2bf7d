package io.otlp4j.queue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * A disk of {@code capacity} bytes for one queue directory, through the {@link SegmentChannels}
 * seam: a write that would grow the segment files past it writes what fits, then fails with {@code
 * IOException("No space left on device")} as the kernel's ENOSPC does. Used where no small real
 * filesystem can be mounted.
 */
class BoundedDisk implements SegmentChannels {

  private final Path directory;
  private volatile long capacity;
  private volatile boolean failForces;
  private final java.util.concurrent.atomic.AtomicLong forces =
      new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.ConcurrentHashMap<Path, Long> forcedLength =
      new java.util.concurrent.ConcurrentHashMap<>();

  BoundedDisk(Path directory, long capacity) {
    this.directory = directory;
    this.capacity = capacity;
  }

  void capacity(long bytes) {
    capacity = bytes;
  }

  long used() throws IOException {
    try (Stream<Path> files = Files.list(directory)) {
      long sum = 0;
      for (Path p : (Iterable<Path>) files.filter(f -> f.toString().endsWith(".seg"))::iterator) {
        sum += Files.size(p);
      }
      return sum;
    }
  }

  /** Runs inside every force, after the file's length was read and before it is forced. */
  interface ForceHook {
    void beforeForce() throws IOException;
  }

  private volatile ForceHook forceHook;
  private final java.util.concurrent.atomic.AtomicLong writes =
      new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.atomic.AtomicLong failedWrites =
      new java.util.concurrent.atomic.AtomicLong();

  /** Installs {@code hook} for the forces from now on (null: none), e.g. to hold one open. */
  void forceHook(ForceHook hook) {
    forceHook = hook;
  }

  /** Writes that stored at least one byte. */
  long writes() {
    return writes.get();
  }

  /** Writes that failed as a full disk does. */
  long failedWrites() {
    return failedWrites.get();
  }

  /** Makes every force fail with an I/O error, as a failing device does. */
  void failForces(boolean fail) {
    failForces = fail;
  }

  /** How many times a segment was forced. */
  long forces() {
    return forces.get();
  }

  /** The length {@code segment} had when it was last forced, 0 if never. */
  long forcedLength(Path segment) {
    return forcedLength.getOrDefault(segment, 0L);
  }

  @Override
  public FileChannel openForWrite(Path path) throws IOException {
    return new Channel(path, SegmentChannels.DEFAULT.openForWrite(path));
  }

  private final class Channel extends FileChannel {
    private final Path path;
    private final FileChannel delegate;

    Channel(Path path, FileChannel delegate) {
      this.path = path;
      this.delegate = delegate;
    }

    /** Bytes a write at the current position may add before the disk is full. */
    private long room(long position) throws IOException {
      long growth = capacity - used();
      return Math.max(0, delegate.size() - position) + Math.max(0, growth);
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      return (int) write(new ByteBuffer[] {src}, 0, 1);
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
      long room = room(delegate.position());
      long wanted = 0;
      for (int i = offset; i < offset + length; i++) {
        wanted += srcs[i].remaining();
      }
      if (wanted <= room) {
        long n = delegate.write(srcs, offset, length);
        writes.incrementAndGet();
        return n;
      }
      long written = 0;
      for (int i = offset; i < offset + length && room > 0; i++) { // a partial write first
        ByteBuffer part = srcs[i].duplicate();
        int take = (int) Math.min(room, part.remaining());
        part.limit(part.position() + take);
        int n = delegate.write(part);
        srcs[i].position(srcs[i].position() + n);
        written += n;
        room -= n;
      }
      if (written > 0) {
        writes.incrementAndGet();
        return written;
      }
      failedWrites.incrementAndGet();
      throw new IOException("No space left on device");
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
      return delegate.read(dst);
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
      return delegate.read(dsts, offset, length);
    }

    @Override
    public long position() throws IOException {
      return delegate.position();
    }

    @Override
    public FileChannel position(long newPosition) throws IOException {
      delegate.position(newPosition);
      return this;
    }

    @Override
    public long size() throws IOException {
      return delegate.size();
    }

    @Override
    public FileChannel truncate(long size) throws IOException {
      delegate.truncate(size);
      return this;
    }

    @Override
    public void force(boolean metaData) throws IOException {
      long length = delegate.size();
      ForceHook hook = forceHook;
      if (hook != null) {
        hook.beforeForce();
      }
      if (failForces) {
        throw new IOException("Input/output error");
      }
      delegate.force(metaData);
      forces.incrementAndGet();
      forcedLength.merge(path, length, Math::max);
    }

    @Override
    public long transferTo(long position, long count, WritableByteChannel target)
        throws IOException {
      throw new UnsupportedOperationException();
    }

    @Override
    public long transferFrom(ReadableByteChannel src, long position, long count)
        throws IOException {
      throw new UnsupportedOperationException();
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
      return delegate.read(dst, position);
    }

    @Override
    public int write(ByteBuffer src, long position) throws IOException {
      throw new UnsupportedOperationException();
    }

    @Override
    public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
      throw new UnsupportedOperationException();
    }

    @Override
    public FileLock lock(long position, long size, boolean shared) throws IOException {
      throw new UnsupportedOperationException();
    }

    @Override
    public FileLock tryLock(long position, long size, boolean shared) throws IOException {
      throw new UnsupportedOperationException();
    }

    @Override
    protected void implCloseChannel() throws IOException {
      delegate.close();
    }
  }
}
