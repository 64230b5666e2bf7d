package io.otlp4j.receiver;

import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.otlp4j.core.MemoryBudget;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * A request as read off the wire: its bytes with their budget reservation, or the error raised
 * while reading them (a message that decompresses past the size limit, or does not decompress), or
 * neither when the memory budget refused it ({@link #refused}). Carrying the error to the handler
 * lets it answer {@code RESOURCE_EXHAUSTED} itself; thrown from the marshaller it would reach the
 * client as {@code UNKNOWN}.
 *
 * <p><b>Ownership:</b> the reservation belongs to whoever holds the GrpcInbound until it is handed,
 * with the bytes, to the sink; {@link #release()} returns it otherwise.
 */
final class GrpcInbound {
  final byte[] bytes;
  final StatusRuntimeException error;
  final BudgetReservation reservation;

  GrpcInbound(byte[] bytes, StatusRuntimeException error, BudgetReservation reservation) {
    this.bytes = bytes;
    this.error = error;
    this.reservation = reservation;
  }

  boolean refused() {
    return bytes == null && error == null;
  }

  void release() {
    if (reservation != null) {
      reservation.release();
    }
  }

  /**
   * Reads a request out of grpc-java's buffers, reserving the copy first (see {@link
   * GrpcAdmission#read}).
   */
  static final class Marshaller implements MethodDescriptor.Marshaller<GrpcInbound> {
    private final MemoryBudget budget;

    Marshaller(MemoryBudget budget) {
      this.budget = budget;
    }

    @Override
    public InputStream stream(GrpcInbound value) {
      return new ByteArrayInputStream(value.bytes);
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
        byte[] bytes = GrpcAdmission.read(stream, reservation);
        if (bytes == null) {
          reservation.release();
          return new GrpcInbound(null, null, null);
        }
        return new GrpcInbound(bytes, null, reservation);
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
  }
}
