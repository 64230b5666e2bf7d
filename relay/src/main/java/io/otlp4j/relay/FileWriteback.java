package io.otlp4j.relay;

import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * Writes a {@link FileExporter}'s output back to disk in steps as it grows, on a thread of its own,
 * instead of leaving it to the kernel's flusher.
 *
 * <h2>Why</h2>
 *
 * Left alone, Linux writes a file's dirty pages back when the inode has been dirty for {@code
 * vm.dirty_expire_centisecs} (30 s): for a file that is written continuously that is the whole
 * file, ~100 MiB at a time. On ext4 ({@code data=ordered}) the journal commit that the durable
 * queue's {@code fdatasync} needs then waits for that data too: measured at 10,000 spans/s with the
 * embedded default, the queue's force took 40–70 ms every ~10 s (one expired 100 MiB JSON file
 * after another), so 5 or 6 acknowledgements in every 1,000 waited that long; a plain 50 KB write
 * and force takes ~0.5 ms here. Forcing the output every {@link
 * FileExporter#DEFAULT_WRITEBACK_BYTES} keeps the data in flight small, as RocksDB's {@code
 * bytes_per_sync} does; the bytes written are the same, only sooner (and the output is on disk
 * sooner after a power loss, which the file exporter never promised: its data's safety is the
 * queue's).
 *
 * <h2>Concurrency</h2>
 *
 * The writing threads call {@link #request} (under their file's lock) with the file's current
 * channel; one daemon thread ({@code otlp4j-file-writeback-<id>}) forces it. A channel closed by a
 * rotation or a shutdown meanwhile is skipped; a rotation's {@code close} waits for a force that is
 * running on its channel, a few milliseconds.
 *
 * <h2>Backpressure</h2>
 *
 * At most one force per file waits: a request made while the file's last one has not started is
 * dropped (the force that starts later covers the bytes too), so the task queue holds at most one
 * task per file and the writers never wait for a force.
 */
final class FileWriteback {
  private static final System.Logger LOG = System.getLogger(FileWriteback.class.getName());

  private final String id;
  private final ThreadPoolExecutor thread;
  private final LongAdder forces = new LongAdder();
  private final AtomicBoolean failureLogged = new AtomicBoolean();

  FileWriteback(String id) {
    this.id = id;
    this.thread =
        new ThreadPoolExecutor(
            1,
            1,
            30,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(),
            r -> {
              Thread t = new Thread(r, "otlp4j-file-writeback-" + id);
              t.setDaemon(true);
              return t;
            });
    thread.allowCoreThreadTimeOut(true);
  }

  /**
   * Asks for {@code channel} to be forced unless a force asked for by the same file ({@code
   * pending}, the file's own flag) has not started yet.
   */
  void request(FileChannel channel, AtomicBoolean pending) {
    if (!pending.compareAndSet(false, true)) {
      return;
    }
    try {
      thread.execute(
          () -> {
            pending.set(false);
            force(channel);
          });
    } catch (RejectedExecutionException e) {
      pending.set(false); // shut down: the file is being closed
    }
  }

  private void force(FileChannel channel) {
    try {
      channel.force(false);
      forces.increment();
    } catch (ClosedChannelException e) {
      // Rotated or shut down since: the closed file's rest is the kernel's to write back.
    } catch (IOException | RuntimeException e) {
      // Not the data's safety (see the class comment): the pages stay for the kernel's flusher.
      if (failureLogged.compareAndSet(false, true)) {
        LOG.log(
            System.Logger.Level.WARNING,
            id + ": could not write the output back to disk ahead of the kernel (logged once)",
            e);
      }
    }
  }

  /** Forces completed so far (for tests). */
  long forces() {
    return forces.sum();
  }

  /** Runs the forces asked for, then stops the thread; waits at most {@code millis}. */
  void shutdown(long millis) {
    thread.shutdown();
    try {
      thread.awaitTermination(millis, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
