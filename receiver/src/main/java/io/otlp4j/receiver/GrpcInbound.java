package io.otlp4j.receiver;

import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.Unpooled;
import io.otlp4j.core.MemoryBudget;
import io.otlp4j.grpc.ReceivedMessages;
import java.io.IOException;
import java.io.InputStream;

/**
 * A request as read off the wire: its bytes with their budget reservation, or the error raised
 * while reading them (a message that decompresses past the size limit, or does not decompress), or
 * neither when the memory budget refused it ({@link #refused}). Carrying the error to the handler
 * lets it answer {@code RESOURCE_EXHAUSTED} itself; thrown from the marshaller it would reach the
 * client as {@code UNKNOWN}.
 *
 * <p><b>Buffer ownership:</b> the buffer and the reservation belong to whoever holds the
 * GrpcInbound until they are handed, together, to the sink; {@link #release()} returns both
 * otherwise (exactly once: later calls do nothing).
 */
final class GrpcInbound {
  private ByteBuf bytes;
  final StatusRuntimeException error;
  final BudgetReservation reservation;

  /** Takes ownership of {@code bytes} and {@code reservation}. */
  GrpcInbound(ByteBuf bytes, StatusRuntimeException error, BudgetReservation reservation) {
    this.bytes = bytes;
    this.error = error;
    this.reservation = reservation;
  }

  boolean refused() {
    return bytes == null && error == null;
  }

  /** The request's bytes, still owned by this GrpcInbound; null when refused or failed. */
  ByteBuf bytes() {
    return bytes;
  }

  /**
   * Hands the bytes over: the caller owns them (and must release them) from now on; a later {@link
   * #release()} returns only the reservation.
   */
  ByteBuf takeBytes() {
    ByteBuf b = bytes;
    bytes = null;
    return b;
  }

  /** Releases the bytes, if still held, and the reservation. */
  void release() {
    ByteBuf b = bytes;
    bytes = null;
    try {
      if (b != null) {
        b.release();
      }
    } finally {
      if (reservation != null) {
        reservation.release();
      }
    }
  }

  /**
   * Takes a request out of grpc-java's buffers, reserved first: an uncompressed one without a heap
   * copy ({@link ReceivedMessages#take}: grpc-java's own buffer, or one copy into a pooled direct
   * buffer of {@code allocator}), a decompressed one read into an array ({@link
   * GrpcAdmission#read}).
   */
  static final class Marshaller implements MethodDescriptor.Marshaller<GrpcInbound> {
    private final MemoryBudget budget;
    private final ByteBufAllocator allocator;

    Marshaller(MemoryBudget budget, ByteBufAllocator allocator) {
      this.budget = budget;
      this.allocator = allocator;
    }

    /** A stream over the request's bytes; neither takes nor releases them. */
    @Override
    public InputStream stream(GrpcInbound value) {
      return new ByteBufInputStream(value.bytes.duplicate());
    }

    @Override
    public GrpcInbound parse(InputStream stream) {
      GrpcAdmission.Call admitted = GrpcAdmission.CALL.get();
      if (admitted != null && admitted.refused()) {
        return new GrpcInbound(null, null, null); // already answered; copy nothing
      }
      BudgetReservation reservation = new BudgetReservation(budget);
      if (admitted != null) {
        reservation.adopt(admitted.takeWire());
      }
      try {
        if (ReceivedMessages.takeable(stream)) {
          // uncompressed: the length is known before anything is held beyond the wire reservation
          if (!reservation.resize(stream.available())) {
            reservation.release();
            return new GrpcInbound(null, null, null);
          }
          return take(stream, reservation);
        }
        byte[] bytes = GrpcAdmission.read(stream, reservation);
        if (bytes == null) {
          reservation.release();
          return new GrpcInbound(null, null, null);
        }
        return new GrpcInbound(Unpooled.wrappedBuffer(bytes), null, reservation);
      } catch (StatusRuntimeException e) {
        reservation.release();
        return new GrpcInbound(null, e, null);
      } catch (IOException e) {
        // A corrupt or truncated compressed message (gzip's ZipException or EOFException, zstd's
        // ZstdIOException): the client's malformed input, INVALID_ARGUMENT. Thrown on to grpc-java
        // it was answered UNKNOWN ("Application error processing RPC"), found by fuzzing.
        reservation.release();
        return new GrpcInbound(
            null,
            Status.INVALID_ARGUMENT
                .withDescription("malformed compressed message: " + e.getMessage())
                .withCause(e)
                .asRuntimeException(),
            null);
      } catch (RuntimeException | Error e) {
        reservation.release();
        throw e;
      }
    }

    private GrpcInbound take(InputStream stream, BudgetReservation reservation) throws IOException {
      ByteBuf bytes = ReceivedMessages.take(stream, allocator);
      if (bytes == null) { // not expected: takeable was checked
        throw new IOException("grpc-java's message stream cannot be taken");
      }
      return new GrpcInbound(bytes, null, reservation);
    }
  }
}
