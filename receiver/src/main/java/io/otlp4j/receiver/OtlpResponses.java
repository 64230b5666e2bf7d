package io.otlp4j.receiver;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.otlp4j.core.Outcome;
import io.otlp4j.wire.ProtoWriter;
import io.otlp4j.wire.Signal;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;

/**
 * Encodes what a receiver answers: {@code Export*ServiceResponse} (empty or with {@code
 * partial_success}) in protobuf and in OTLP/JSON, and {@code google.rpc.Status} in OTLP/JSON (its
 * protobuf form, with {@code RetryInfo} for retryable refusals, is {@link
 * io.otlp4j.grpc.RpcStatus}). Stateless and thread-safe; every method returns a new array.
 */
final class OtlpResponses {

  /** {@code google.rpc.Code} values used here. */
  static final int CODE_INVALID_ARGUMENT = 3;

  static final int CODE_RESOURCE_EXHAUSTED = 8;
  static final int CODE_UNAUTHENTICATED = 16;
  static final int CODE_UNAVAILABLE = 14;
  static final int CODE_NOT_FOUND = 5;
  static final int CODE_UNIMPLEMENTED = 12;

  /** For the few small JSON answers written here; thread-safe once built. */
  private static final JsonFactory JSON = JsonFactory.builder().build();

  private static final byte[] EMPTY = new byte[0];
  private static final byte[] EMPTY_JSON = {'{', '}'};

  private OtlpResponses() {}

  /**
   * The protobuf {@code Export*ServiceResponse} for an accepted or partially accepted outcome. All
   * three signals put {@code partial_success} in field 1 and its rejected count and error message
   * in fields 1 and 2.
   */
  static byte[] exportResponse(Outcome outcome) {
    if (outcome.kind() != Outcome.Kind.PARTIALLY_ACCEPTED) {
      return EMPTY;
    }
    ProtoWriter w = new ProtoWriter(64 + outcome.message().length() * 3);
    w.begin(1);
    if (outcome.rejectedItems() != 0) {
      w.int64(1, outcome.rejectedItems());
    }
    if (!outcome.message().isEmpty()) {
      w.string(2, outcome.message());
    }
    w.end();
    return w.toByteArray();
  }

  /**
   * The OTLP/JSON {@code Export*ServiceResponse}: {@code {}} or {@code {"partialSuccess":{...}}}.
   */
  static byte[] exportResponseJson(Signal signal, Outcome outcome) {
    if (outcome.kind() != Outcome.Kind.PARTIALLY_ACCEPTED) {
      return EMPTY_JSON.clone();
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(64 + outcome.message().length());
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      g.writeObjectFieldStart("partialSuccess");
      if (outcome.rejectedItems() != 0) {
        // proto3 JSON writes int64 as a string
        g.writeStringField(rejectedJsonName(signal), Long.toString(outcome.rejectedItems()));
      }
      if (!outcome.message().isEmpty()) {
        g.writeStringField("errorMessage", outcome.message());
      }
      g.writeEndObject();
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  static String rejectedJsonName(Signal signal) {
    switch (signal) {
      case TRACES:
        return "rejectedSpans";
      case METRICS:
        return "rejectedDataPoints";
      default:
        return "rejectedLogRecords";
    }
  }

  /** A {@code google.rpc.Status} in proto3 JSON: {@code {"code":3,"message":"..."}}. */
  static byte[] statusJson(int code, String message) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(32 + message.length());
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      g.writeNumberField("code", code);
      g.writeStringField("message", message);
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** Whole seconds for {@code Retry-After}, rounded up, at least 1. */
  static long retryAfterSeconds(Duration delay) {
    long seconds = delay.getSeconds() + (delay.getNano() > 0 ? 1 : 0);
    return Math.max(1, seconds);
  }
}
