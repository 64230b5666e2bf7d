package io.otlp4j.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import java.util.Arrays;
import java.util.List;

/**
 * Merges encoded OTLP export requests of one signal into one request without copying: the result is
 * the requests' bytes one after another, as a {@link CompositeByteBuf} of retained slices.
 *
 * <h2>Why concatenation is a merge</h2>
 *
 * An export request has a single field, the repeated {@code resource_spans} / {@code
 * resource_metrics} / {@code resource_logs} (field 1), and protobuf parses a message's fields in
 * any order, appending the elements of a repeated field as they come. So the concatenation of two
 * encoded requests parses to one request whose Resource* list is the first request's followed by
 * the second's (and whose unknown fields are both requests' unknown fields). No length prefix
 * covers the request itself (gRPC and OTLP/HTTP frame the whole message), so nothing needs
 * rewriting. The inputs must be requests of the same signal, each valid on its own ({@link
 * OtlpWalker} checks that); the merge does not look at them.
 *
 * <h2>Buffer ownership</h2>
 *
 * The inputs are only sliced: their indexes and reference counts as the caller sees them are
 * unchanged and the caller keeps (and releases) them. The returned buffer is owned by the caller
 * and must be released; it holds a retained slice of every input, so their memory lives until it is
 * released.
 *
 * <p>Stateless and thread-safe.
 */
public final class RequestMerger {
  private RequestMerger() {}

  /** Merges {@code requests} in order; see the class comment for ownership. */
  public static CompositeByteBuf merge(ByteBufAllocator alloc, List<ByteBuf> requests) {
    CompositeByteBuf merged = alloc.compositeBuffer(Math.max(2, requests.size()));
    try {
      for (ByteBuf request : requests) {
        if (request.isReadable()) {
          merged.addComponent(true, request.retainedSlice());
        }
      }
    } catch (RuntimeException | Error e) {
      merged.release();
      throw e;
    }
    return merged;
  }

  /** Merges {@code requests} in order; see the class comment for ownership. */
  public static CompositeByteBuf merge(ByteBufAllocator alloc, ByteBuf... requests) {
    return merge(alloc, Arrays.asList(requests));
  }
}
