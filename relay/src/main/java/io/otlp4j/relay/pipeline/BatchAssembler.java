package io.otlp4j.relay.pipeline;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.otlp4j.core.internal.FaultInjection;
import io.otlp4j.wire.RequestMerger;
import io.otlp4j.wire.RequestSplitter;
import io.otlp4j.wire.Signal;
import java.util.ArrayList;
import java.util.List;

/**
 * Makes the requests of one batch into the requests an exporter is given, for both the in-memory
 * queue ({@link ExporterQueue}) and the durable one ({@link DurableExportLoop}): merges them by
 * concatenation ({@link RequestMerger}, no copy), cuts the result to {@code send_batch_max_size}
 * ({@link RequestSplitter}) and takes each part's item count from the split, so that no request is
 * walked again (the receiver walked it once; its count travels with it).
 *
 * <p><b>Buffer ownership:</b> {@link #assemble} borrows the batch's buffers (their reference counts
 * are unchanged; the parts hold their own references) and returns parts the caller owns; on an
 * exception nothing is left allocated. {@link #releaseFrom} releases the parts not handed on.
 *
 * <p>Immutable and thread-safe.
 */
final class BatchAssembler {

  /**
   * One request for the exporter: its bytes (one reference, owned by whoever holds the part) and
   * items.
   */
  record Part(ByteBuf bytes, long items) {}

  private final Signal signal;
  private final RequestSplitter splitter; // null: no send_batch_max_size

  BatchAssembler(Signal signal, int sendBatchMaxSize) {
    this.signal = signal;
    this.splitter =
        sendBatchMaxSize > 0
            ? RequestSplitter.builder().maxItems(sendBatchMaxSize).validation(false).build()
            : null;
  }

  /**
   * The parts to export for {@code requests} (borrowed) holding {@code items} items in all.
   *
   * @return at least one part; each holds its own reference, which the caller must pass on or
   *     release
   */
  List<Part> assemble(List<ByteBuf> requests, long items) {
    FaultInjection.check(FaultInjection.Stage.BATCH);
    ByteBuf merged =
        requests.size() == 1
            ? requests.get(0).retainedDuplicate()
            : RequestMerger.merge(ByteBufAllocator.DEFAULT, requests);
    if (splitter == null || items <= splitter.maxItems()) {
      try {
        return List.of(new Part(merged, items));
      } catch (Throwable e) {
        merged.release();
        throw e;
      }
    }
    List<ByteBuf> pieces;
    List<Long> counts = new ArrayList<>();
    try {
      FaultInjection.check(FaultInjection.Stage.SPLIT);
      pieces = splitter.split(signal, merged, counts);
    } finally {
      merged.release(); // the pieces hold retained slices
    }
    List<Part> parts = new ArrayList<>(pieces.size());
    try {
      for (int i = 0; i < pieces.size(); i++) {
        parts.add(new Part(pieces.get(i), counts.get(i)));
      }
      return parts;
    } catch (Throwable e) {
      for (ByteBuf piece : pieces) {
        piece.release();
      }
      throw e;
    }
  }

  /**
   * Releases the parts from index {@code from} on: those not handed to an exporter. Never throws.
   */
  static void releaseFrom(List<Part> parts, int from) {
    for (int i = from; i < parts.size(); i++) {
      try {
        parts.get(i).bytes().release();
      } catch (RuntimeException ignored) {
        // already released: nothing more to free
      }
    }
  }
}
