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
 * connection of the server, and a {@link MemoryBudget} reservation of each message's bytes taken as
 * grpc-java reads them off the wire, not after it has buffered the whole message.
 *
 * <p><b>How the bytes are seen in time.</b> grpc-java moves a message's body from the HTTP/2 stream
 * into its own frame buffer only while the application has asked for a message, and it returns
 * HTTP/2 flow-control credit to the client only for bytes it has moved. Each move is reported to
 * the stream's {@link ServerStreamTracer#inboundWireSize(long)} <em>before</em> the client is
 * allowed to send more; the message's declared length (its 5-byte gRPC prefix) is read by
 * grpc-java's deframer but reaches no public hook, so {@link Call} reserves from these reports.
 *
 * <p><b>Whole reservations: no partial-message starvation.</b> Reserving only the bytes that have
 * arrived lets many concurrent large messages fill the budget with parts of themselves, none able
 * to grow to its end: under a flood almost every call is refused after its bytes were read, and
 * almost none completes. So a message is reserved exactly as it arrives only up to {@link
 * #EXACT_BYTES}; once it grows past that, its reservation is raised at once to the largest message
 * the server accepts ({@code maxMessageBytes}, which bounds the length grpc-java already checked in
 * the prefix), and when the budget cannot give that, the call is refused then, having held at most
 * {@link #EXACT_BYTES}. A call whose whole reservation succeeded never asks the budget for more
 * wire bytes, so it completes whatever the other calls do; when its last byte arrives ({@link
 * Call#inboundMessageRead}) the reservation shrinks to the message's real size. Parts of messages
 * not yet raised hold at most {@code EXACT_BYTES} per call ({@code maxConcurrentCalls *
 * EXACT_BYTES} in all, 64 MiB at the defaults), so they cannot starve the whole reservations of a
 * budget much larger than that. (A message longer than the whole budget cannot be reserved whole;
 * it is reserved as it arrives, and refused when that fails.)
 *
 * <p><b>Refusal.</b> When the budget refuses, the call is answered at once with {@code
 * RESOURCE_EXHAUSTED} and a {@code RetryInfo}, its reservation is returned, and grpc-java resets
 * the stream, dropping what it had buffered. So the receiver holds at most what the budget
 * admitted, plus the HTTP/2 flow-control window of bytes that have arrived and not been read yet
 * (grpc-java's 1 MiB per stream, bounded per connection by the 1 MiB connection window). The parser
 * takes the message's reservation over and makes it the message's length before it holds the
 * message: an uncompressed message is taken out of grpc-java's buffers without a heap copy ({@link
 * io.otlp4j.grpc.ReceivedMessages}: grpc-java's own buffer when it came in one frame, else one copy
 * into a pooled direct buffer, during which the frames and the copy coexist); a compressed one is
 * decompressed into an array grown in reserved steps ({@link #read}: a decompressed message is
 * larger, and grpc-java enforces {@code maxMessageBytes} on it too).
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

  /**
   * The bytes of a message reserved exactly as they arrive; past them the message's reservation is
   * raised to the largest accepted message (see the class comment).
   */
  static final int EXACT_BYTES = 64 * 1024;

  private final MemoryBudget budget;
  private final long wholeMessageBytes;
  private final int maxConcurrentCalls;
  private final Duration retryAfter;
  private final ReceiverMetrics metrics;
  private final AtomicInteger calls = new AtomicInteger();

  GrpcAdmission(
      MemoryBudget budget,
      int maxMessageBytes,
      int maxConcurrentCalls,
      Duration retryAfter,
      ReceiverMetrics metrics) {
    this.budget = budget;
    this.wholeMessageBytes = Math.min(maxMessageBytes, budget.limitBytes());
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
   * Copies a (decompressing) message stream into an array, reserving the copy in the budget before
   * it is made. Returns null, having read nothing more, when the budget refuses; otherwise the
   * bytes, with {@code reservation} grown to exactly their length.
   *
   * @throws IOException from the stream (grpc-java's decompression and size checks throw {@link
   *     io.grpc.StatusRuntimeException})
   */
  static byte[] read(InputStream stream, BudgetReservation reservation) throws IOException {
    if (stream instanceof KnownLength) {
      // an uncompressed message: its length is known before the copy, which is made into one
      // array of that length (readAllBytes would copy through chunks: twice the garbage)
      int length = stream.available();
      if (!reservation.resize(length)) {
        return null;
      }
      byte[] bytes = new byte[length];
      int size = stream.readNBytes(bytes, 0, length);
      if (size < length) { // not expected: grpc-java's stream holds exactly available() bytes
        bytes = Arrays.copyOf(bytes, size);
        reservation.resize(size);
      }
      return bytes;
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
   * One call's admission state: the bytes reserved while grpc-java buffers its message, whether the
   * budget refused it, and who answers it. Created by the tracer factory, published in the call's
   * {@link Context} ({@link #CALL}).
   */
  final class Call extends ServerStreamTracer {
    private final AtomicBoolean answered = new AtomicBoolean();
    private ServerCall<?, ?> call; // guarded by this
    private long wireBytes; // bytes of the message read so far; guarded by this
    private long reserved; // bytes held in the budget for them, >= wireBytes; guarded by this
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
        wireBytes += bytes;
        // exact up to EXACT_BYTES, then the whole message at once (see the class comment)
        long needed = wireBytes <= EXACT_BYTES ? wireBytes : Math.max(wireBytes, wholeMessageBytes);
        if (needed <= reserved || budget.tryAcquire(needed - reserved)) {
          reserved = Math.max(reserved, needed);
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

    /**
     * The message's last byte was read: its reservation shrinks from the whole-message bound to
     * what it really holds.
     */
    @Override
    public synchronized void inboundMessageRead(
        int seqNo, long optionalWireSize, long optionalUncompressedSize) {
      if (reserved > wireBytes) {
        budget.release(reserved - wireBytes);
        reserved = wireBytes;
      }
    }

    /** True once the budget refused this call's bytes (it is then being answered, or was). */
    synchronized boolean refused() {
      return refused;
    }

    /** Returns the reserved bytes: once the message is copied out, or when the stream ends. */
    synchronized void releaseWire() {
      if (reserved > 0) {
        budget.release(reserved);
      }
      reserved = 0;
      wireBytes = 0;
    }

    /**
     * Hands the wire bytes reserved so far to the caller (who must adopt them into a reservation):
     * the parser's copy takes them over, since grpc-java frees the frame buffers as soon as the
     * copy is delivered.
     */
    synchronized long takeWire() {
      long taken = reserved;
      reserved = 0;
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
