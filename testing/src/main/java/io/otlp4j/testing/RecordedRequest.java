package io.otlp4j.testing;

import com.google.protobuf.Message;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.otlp4j.wire.Signal;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One request the {@link MockOtlpServer} received: how it came, its headers, its bytes, its Export
 * request as the official opentelemetry-proto classes decode it, the answer the script gave it and
 * what became of that answer. Recorded when the request arrives; {@link #outcome()} changes once it
 * is answered. Thread-safe.
 */
public final class RecordedRequest {

  /** What became of a request. */
  public enum Outcome {
    /** Not answered yet (delayed, held, or never to be answered). */
    PENDING,
    /** Answered with success (full or partial): its items count as received. */
    ACCEPTED,
    /** Answered with a failure status, or refused because it could not be decoded. */
    REJECTED,
    /** The client cancelled the call (gRPC) before the answer was sent: it does not count. */
    CANCELLED,
    /** Its connection was dropped, as scripted. */
    DROPPED
  }

  private final int sequence;
  private final Transport transport;
  private final Signal signal;
  private final Map<String, List<String>> headers;
  private final byte[] body;
  private final Message message;
  private final String decodeError;
  private final InetSocketAddress remoteAddress;
  private volatile Answer answer;
  private volatile Outcome outcome = Outcome.PENDING;

  RecordedRequest(
      int sequence,
      Transport transport,
      Signal signal,
      Map<String, List<String>> headers,
      byte[] body,
      Message message,
      String decodeError,
      InetSocketAddress remoteAddress) {
    this.sequence = sequence;
    this.transport = transport;
    this.signal = signal;
    this.headers = headers;
    this.body = body;
    this.message = message;
    this.decodeError = decodeError;
    this.remoteAddress = remoteAddress;
  }

  /**
   * 0 for the first request since the server was built (or {@linkplain MockOtlpServer#clear()
   * cleared}).
   */
  public int sequence() {
    return sequence;
  }

  public Transport transport() {
    return transport;
  }

  public Signal signal() {
    return signal;
  }

  /**
   * Request headers (HTTP) or metadata (gRPC, binary {@code -bin} values in base64), names in lower
   * case, values in arrival order.
   */
  public Map<String, List<String>> headers() {
    return headers;
  }

  /** The first value of header {@code name} (any case), or null. */
  public String header(String name) {
    List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
    return values == null || values.isEmpty() ? null : values.get(0);
  }

  /** Every value of header {@code name} (any case); empty if absent. */
  public List<String> headers(String name) {
    return headers.getOrDefault(name.toLowerCase(Locale.ROOT), List.of());
  }

  /**
   * The body as it arrived: for HTTP the bytes on the wire (still compressed if the client
   * compressed them); for gRPC the message after grpc-java's decompression. A copy.
   */
  public byte[] body() {
    return body.clone();
  }

  /**
   * The Export request, decoded by the official classes (from protobuf or OTLP/JSON); null if it
   * was not decodable.
   */
  public Message message() {
    return message;
  }

  /** Why the body could not be decoded, or null. */
  public String decodeError() {
    return decodeError;
  }

  /** The Export request as traces; ClassCastException for another signal. */
  public ExportTraceServiceRequest traces() {
    return (ExportTraceServiceRequest) message;
  }

  public ExportMetricsServiceRequest metrics() {
    return (ExportMetricsServiceRequest) message;
  }

  public ExportLogsServiceRequest logs() {
    return (ExportLogsServiceRequest) message;
  }

  /** Spans, data points or log records in the request; 0 if it was not decodable. */
  public long items() {
    return message == null ? 0 : OfficialDecoding.items(message);
  }

  /** The client's address: one per connection. */
  public InetSocketAddress remoteAddress() {
    return remoteAddress;
  }

  /** The answer the script gave this request. */
  public Answer answer() {
    return answer;
  }

  public Outcome outcome() {
    return outcome;
  }

  void answer(Answer a) {
    answer = a;
  }

  void outcome(Outcome o) {
    outcome = o;
  }

  @Override
  public String toString() {
    return "#"
        + sequence
        + " "
        + transport
        + " "
        + signal
        + " "
        + body.length
        + " bytes from "
        + remoteAddress
        + ": "
        + answer
        + ", "
        + outcome
        + (decodeError == null ? "" : " (" + decodeError + ")");
  }
}
