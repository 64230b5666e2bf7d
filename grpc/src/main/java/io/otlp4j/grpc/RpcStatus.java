package io.otlp4j.grpc;

import io.grpc.Metadata;
import io.otlp4j.wire.ProtoWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * The one codec of {@code google.rpc.Status} with a {@code google.rpc.RetryInfo} detail, written
 * and read by hand so that main code carries no protobuf runtime: the receiver encodes its refusals
 * with {@link #encode}, the exporter reads an upstream's with {@link #message} and {@link
 * #retryDelayNanos}. On gRPC the status travels in the {@link #DETAILS_KEY} trailer; on OTLP/HTTP
 * it is the body of an error answer.
 *
 * <p>Reading skips unknown fields and never throws: a malformed status reads as having no message
 * and no delay. Stateless and thread-safe; every encode returns a new array.
 */
public final class RpcStatus {

  /** The trailer that carries a serialized {@code google.rpc.Status} beside {@code grpc-status}. */
  public static final Metadata.Key<byte[]> DETAILS_KEY =
      Metadata.Key.of("grpc-status-details-bin", Metadata.BINARY_BYTE_MARSHALLER);

  /** The {@code google.protobuf.Any} type URL of a {@code RetryInfo} detail. */
  public static final String RETRY_INFO_TYPE_URL = "type.googleapis.com/google.rpc.RetryInfo";

  private RpcStatus() {}

  /**
   * A protobuf {@code google.rpc.Status} {code, message}; with a non-null {@code retryDelay} it
   * carries one {@code google.rpc.RetryInfo} detail.
   */
  public static byte[] encode(int code, String message, Duration retryDelay) {
    ProtoWriter w = new ProtoWriter(64 + message.length() * 3);
    w.int32(1, code);
    if (!message.isEmpty()) {
      w.string(2, message);
    }
    if (retryDelay != null) {
      w.begin(3); // Any
      w.string(1, RETRY_INFO_TYPE_URL);
      w.begin(2); // RetryInfo
      w.begin(1); // retry_delay: google.protobuf.Duration
      long seconds = retryDelay.getSeconds(); // read together: the nanos adjust these seconds
      int nanos = retryDelay.getNano();
      if (seconds != 0) {
        w.int64(1, seconds);
      }
      if (nanos != 0) {
        w.int32(2, nanos);
      }
      w.end();
      w.end();
      w.end();
    }
    return w.toByteArray();
  }

  /** Trailers that carry {@code status} encoded as by {@link #encode}, for a gRPC error answer. */
  public static Metadata trailers(int code, String message, Duration retryDelay) {
    Metadata trailers = new Metadata();
    trailers.put(DETAILS_KEY, encode(code, message, retryDelay));
    return trailers;
  }

  /**
   * The message (field 2) of a serialized {@code google.rpc.Status}; empty when absent or
   * malformed.
   */
  public static String message(byte[] status) {
    if (status == null) {
      return "";
    }
    try {
      ProtoCursor r = new ProtoCursor(status, 0, status.length);
      while (r.hasMore()) {
        int tag = r.tag();
        if (tag == ((2 << 3) | 2)) {
          int len = r.length();
          return new String(status, r.pos(), len, StandardCharsets.UTF_8);
        }
        r.skip(tag);
      }
    } catch (RuntimeException malformed) {
      // fall through
    }
    return "";
  }

  /**
   * The {@code retry_delay} of a {@code google.rpc.RetryInfo} among the details (field 3, repeated
   * {@code google.protobuf.Any}) of a serialized {@code google.rpc.Status}, in nanoseconds; -1 when
   * there is none (or it is malformed or negative).
   */
  public static long retryDelayNanos(byte[] status) {
    if (status == null) {
      return -1;
    }
    try {
      ProtoCursor r = new ProtoCursor(status, 0, status.length);
      while (r.hasMore()) {
        int tag = r.tag();
        if (tag != ((3 << 3) | 2)) {
          r.skip(tag);
          continue;
        }
        int len = r.length();
        ProtoCursor any = new ProtoCursor(status, r.pos(), r.pos() + len);
        r.advance(len);
        String typeUrl = null;
        int valueStart = -1;
        int valueLen = 0;
        while (any.hasMore()) {
          int t = any.tag();
          if (t == ((1 << 3) | 2)) {
            int l = any.length();
            typeUrl = new String(status, any.pos(), l, StandardCharsets.UTF_8);
            any.advance(l);
          } else if (t == ((2 << 3) | 2)) {
            valueLen = any.length();
            valueStart = any.pos();
            any.advance(valueLen);
          } else {
            any.skip(t);
          }
        }
        if (RETRY_INFO_TYPE_URL.equals(typeUrl)) {
          if (valueStart < 0) {
            return 0; // RetryInfo present but empty: retry with the exporter's own backoff
          }
          return retryDelay(status, valueStart, valueStart + valueLen);
        }
      }
    } catch (RuntimeException malformed) {
      // fall through
    }
    return -1;
  }

  /** RetryInfo { retry_delay = 1 (Duration { seconds = 1, nanos = 2 }) }. */
  private static long retryDelay(byte[] buf, int start, int end) {
    ProtoCursor r = new ProtoCursor(buf, start, end);
    long seconds = 0;
    long nanos = 0;
    while (r.hasMore()) {
      int tag = r.tag();
      if (tag == ((1 << 3) | 2)) {
        int len = r.length();
        ProtoCursor d = new ProtoCursor(buf, r.pos(), r.pos() + len);
        r.advance(len);
        while (d.hasMore()) {
          int t = d.tag();
          if (t == ((1 << 3) | 0)) {
            seconds = d.varint();
          } else if (t == ((2 << 3) | 0)) {
            nanos = (int) d.varint();
          } else {
            d.skip(t);
          }
        }
      } else {
        r.skip(tag);
      }
    }
    if (seconds < 0 || nanos < 0) {
      return 0;
    }
    if (seconds > Long.MAX_VALUE / 1_000_000_000L - 1) {
      return Long.MAX_VALUE;
    }
    return seconds * 1_000_000_000L + nanos;
  }
}
