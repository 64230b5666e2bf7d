package io.otlp4j.receiver;

import io.grpc.Context;
import io.grpc.KnownLength;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerStreamTracer;
import io.grpc.Status;
import io.otlp4j.core.MemoryBudget;
import io.otlp4j.grpc.RpcStatus;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Admission of gRPC calls before their bytes are buffered: a bound on concurrent calls across every
 * connection of the server, and a {@link MemoryBudget} reservation of each message's bytes as
 * grpc-java reads them off the wire, not after it has buffered the whole message.
 *
 * <p><b>How the bytes are seen in time.</b> grpc-java moves a message's body from the HTTP/2 stream
 * into its own frame buffer only while the application has asked for a message, and it returns
 * HTTP/2 flow-control credit to the client only for bytes it has moved. Each move is reported to
 * the stream's {@link ServerStreamTracer#inboundWireSize(long)} <em>before</em> the client is
 * allowed to send more. {@link Call} reserves those bytes in the budget there; when the budget
 * refuses, the call is answered at once with {@code RESOURCE_EXHAUSTED} and a {@code RetryInfo},
 * its reservation is returned, and grpc-java resets the stream, dropping what it had buffered. So a
 * call holds at most what the budget admitted, plus one HTTP/2 flow-control window that has not
 * been read yet (grpc-java's 1 MiB per stream, bounded per connection by the connection window).
 * The parser's copy of an admitted message ({@link #read}) takes the message's wire reservation
 * over and grows it to the copy's size before the copy is made (a decompressed message is larger);
 * while the copy is made, grpc-java's frame buffers and the copy coexist, for one message per call
 * being parsed.
 *
 * <p>A refused call gives its bytes back, so under a flood every refusal makes room and the calls
 * that fit complete: the budget is never exceeded and no call waits for room.
 *
 * <p><b>Concurrency:</b> the tracer runs on the transport's thread, the call's listener on the
 * application executor, the sink's completion on any thread. Each {@link Call}'s reservation is
 * guarded by its monitor; the answer is sent once, by whichever side wins {@link
 * Call#claimAnswer()}. Thread-safe.
 */
final class GrpcAdmission {

  /** Carries a call's {@link Call} from its tracer to the handler and the marshaller. */
  static final Context.Key<Call> CALL = Context.key("otlp4j-grpc-admission");

  /**
   * Bytes reserved ahead of each read of a message whose length is not known (a compressed one).
   */
  private static final int READ_CHUNK = 64 * 1024;

  private final MemoryBudget budget;
  private final int maxConcurrentCalls;
  private final Duration retryAfter;
  private final ReceiverMetrics metrics;
  private final AtomicInteger calls = new AtomicInteger();

  GrpcAdmission(
      MemoryBudget budget, int maxConcurrentCalls, Duration retryAfter, ReceiverMetrics metrics) {
    this.budget = budget;
    this.maxConcurrentCalls = maxConcurrentCalls;
    this.retryAfter = retryAfter;
    this.metrics = metrics;
  }

  /** The factory to register on the server: one {@link Call} per stream. */
  ServerStreamTracer.Factory tracerFactory() {
    return new ServerStreamTracer.Factory() {
      @Override
      public ServerStreamTracer newServerStreamTracer(String fullMethodName, Metadata headers) {
        return new Call();
      }
    };
  }

  /** Calls admitted and not yet finished. */
  int activeCalls() {
    return calls.get();
  }

  /**
   * Takes one of the server-wide call slots; false (taking nothing) when all are in use. A true
   * return must be matched by one {@link #endCall()}.
   */
  boolean beginCall() {
    if (calls.incrementAndGet() > maxConcurrentCalls) {
      calls.decrementAndGet();
      return false;
    }
    return true;
  }

  void endCall() {
    calls.decrementAndGet();
  }

  String tooManyCallsMessage() {
    return "too many concurrent calls ("
        + maxConcurrentCalls
        + " across all connections); retry later";
  }

  String memoryLimitedMessage() {
    return "memory limit reached: "
        + budget.usedBytes()
        + " of "
        + budget.limitBytes()
        + " bytes in use; retry later";
  }

  /**
   * Closes {@code call} with {@code RESOURCE_EXHAUSTED} and a {@code RetryInfo} of the configured
   * delay.
   */
  void refuse(ServerCall<?, ?> call, String message) {
    try {
      call.close(
          Status.RESOURCE_EXHAUSTED.withDescription(message),
          RpcStatus.trailers(OtlpResponses.CODE_RESOURCE_EXHAUSTED, message, retryAfter));
    } catch (RuntimeException e) {
      // already closed by the transport (a cancelled call): nobody is left to answer
    }
  }

  /**
   * Copies a message out of grpc-java's buffers, reserving the copy in the budget before it is
   * made. Returns null, having read nothing more, when the budget refuses; otherwise the bytes,
   * with {@code reservation} grown to exactly their length.
   *
   * @throws IOException from the stream (grpc-java's decompression and size checks throw {@link
   *     io.grpc.StatusRuntimeException})
   */
  static byte[] read(InputStream stream, BudgetReservation reservation) throws IOException {
    if (stream instanceof KnownLength) {
      // an uncompressed message: its length is known before the copy
      if (!reservation.resize(stream.available())) {
        return null;
      }
      byte[] bytes = stream.readAllBytes();
      return reservation.resize(bytes.length) ? bytes : null;
    }
    // a decompressing stream (bounded by grpc-java's size limit): reserve each array before
    // allocating it
    byte[] buf = new byte[0];
    int size = 0;
    while (true) {
      if (size == buf.length) {
        int grown = (int) Math.min(Math.max(READ_CHUNK, 2L * buf.length), Integer.MAX_VALUE - 8);
        if (grown == buf.length || !reservation.resize(grown)) {
          return null;
        }
        buf = Arrays.copyOf(buf, grown);
      }
      int n = stream.read(buf, size, buf.length - size);
      if (n < 0) {
        byte[] bytes = Arrays.copyOf(buf, size);
        reservation.resize(size);
        return bytes;
      }
      size += n;
    }
  }

  /**
   * One call's admission state: the wire bytes reserved while grpc-java buffers its message,
   * whether the budget refused it, and who answers it. Created by the tracer factory, published in
   * the call's {@link Context} ({@link #CALL}).
   */
  final class Call extends ServerStreamTracer {
    private final AtomicBoolean answered = new AtomicBoolean();
    private ServerCall<?, ?> call; // guarded by this
    private long wireBytes; // guarded by this
    private boolean refused; // guarded by this

    @Override
    public Context filterContext(Context context) {
      return context.withValue(CALL, this);
    }

    /** The call to close when the budget refuses; set before its first message is requested. */
    synchronized void attach(ServerCall<?, ?> serverCall) {
      this.call = serverCall;
    }

    @Override
    public void inboundWireSize(long bytes) {
      ServerCall<?, ?> toRefuse;
      synchronized (this) {
        if (refused || bytes <= 0) {
          return;
        }
        if (budget.tryAcquire(bytes)) {
          wireBytes += bytes;
          return;
        }
        refused = true;
        releaseWire();
        toRefuse = call;
      }
      if (toRefuse != null && claimAnswer()) {
        metrics.request(RequestResult.MEMORY_LIMITED);
        refuse(toRefuse, memoryLimitedMessage());
      }
    }

    /** True once the budget refused this call's bytes (it is then being answered, or was). */
    synchronized boolean refused() {
      return refused;
    }

    /** Returns the wire bytes: once the message is copied out, or when the stream ends. */
    synchronized void releaseWire() {
      if (wireBytes > 0) {
        budget.release(wireBytes);
        wireBytes = 0;
      }
    }

    /**
     * Hands the wire bytes reserved so far to the caller (who must adopt them into a reservation):
     * the parser's copy takes them over, since grpc-java frees the frame buffers as soon as the
     * copy is delivered.
     */
    synchronized long takeWire() {
      long taken = wireBytes;
      wireBytes = 0;
      return taken;
    }

    /** True for exactly one caller: the one that sends the call's answer. */
    boolean claimAnswer() {
      return answered.compareAndSet(false, true);
    }

    @Override
    public void streamClosed(Status status) {
      synchronized (this) {
        // nothing more will be read: later wire sizes must not be reserved
        refused = true;
        releaseWire();
      }
    }
  }
}
