package io.otlp4j.queue;

import io.netty.buffer.ByteBuf;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/**
 * One append waiting for the writer, framed by the appending thread: the payload's views and the
 * record's CRC32C ({@link RecordFormat#checksum}) are ready, so the writer only writes. The payload
 * is only read, never retained or released.
 */
final class PendingAppend {
  final byte kind;
  final long itemCount;
  final ByteBuffer[] payload;
  final int length;
  final int checksum;
  final long appendedAtMillis;

  /** When {@code append} framed it ({@link System#nanoTime}): the start of {@link AckTrace}. */
  final long appendedAtNanos = AckTrace.ENABLED ? System.nanoTime() : 0;

  /**
   * The appending caller's answer: completed once, by the group's acknowledgement task (see {@link
   * GroupWriter#acknowledge}) or, if the coalescer never carried this append, by {@code append}.
   */
  final CompletableFuture<AppendResult> result = new CompletableFuture<>();

  PendingAppend(byte kind, long itemCount, ByteBuf payload, long appendedAtMillis) {
    this.kind = kind;
    this.itemCount = itemCount;
    this.length = payload.readableBytes();
    // Throws if the payload was released: the caller's bug, answered at once (see append).
    this.payload =
        length == 0 ? new ByteBuffer[0] : payload.nioBuffers(payload.readerIndex(), length);
    this.appendedAtMillis = appendedAtMillis;
    this.checksum = RecordFormat.checksum(kind, itemCount, appendedAtMillis, this.payload);
  }
}
