package io.otlp4j.exporter;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.otlp4j.grpc.ProtoCursor;
import io.otlp4j.grpc.RpcStatus;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Reads the few response fields an exporter needs, by hand, so that main code carries no protobuf
 * runtime: {@code Export*ServiceResponse.partial_success} (protobuf and OTLP/JSON), and, through
 * the shared {@link RpcStatus} codec, {@code google.rpc.Status.message} and the {@code
 * google.rpc.RetryInfo} among its details.
 *
 * <p>Unknown fields are skipped; a malformed response yields {@code null} (the request was still
 * accepted: a garbled response body must not make the exporter send the data twice). Stateless.
 */
final class ResponseParsing {

  private static final JsonFactory JSON = new JsonFactory();

  private ResponseParsing() {}

  /**
   * {@code partial_success} (field 1: {rejected = 1 (int64), error_message = 2 (string)}) of an
   * {@code Export*ServiceResponse}; null when absent, empty or malformed.
   */
  static AttemptOutcome.PartialSuccess partialSuccessFromProtobuf(byte[] response) {
    if (response == null || response.length == 0) {
      return null;
    }
    try {
      ProtoCursor r = new ProtoCursor(response, 0, response.length);
      AttemptOutcome.PartialSuccess found = null;
      while (r.hasMore()) {
        int tag = r.tag();
        if (tag == ((1 << 3) | 2)) {
          int len = r.length();
          ProtoCursor inner = new ProtoCursor(response, r.pos(), r.pos() + len);
          r.advance(len);
          long rejected = 0;
          String message = "";
          while (inner.hasMore()) {
            int t = inner.tag();
            if (t == ((1 << 3) | 0)) {
              rejected = inner.varint();
            } else if (t == ((2 << 3) | 2)) {
              int l = inner.length();
              message = new String(response, inner.pos(), l, StandardCharsets.UTF_8);
              inner.advance(l);
            } else {
              inner.skip(t);
            }
          }
          found = new AttemptOutcome.PartialSuccess(rejected, message);
        } else {
          r.skip(tag);
        }
      }
      return found;
    } catch (RuntimeException malformed) {
      return null;
    }
  }

  /** {@code partialSuccess} of an OTLP/JSON response; null when absent, empty or malformed. */
  static AttemptOutcome.PartialSuccess partialSuccessFromJson(byte[] response) {
    if (response == null || response.length == 0) {
      return null;
    }
    try (JsonParser p = JSON.createParser(response)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return null;
      }
      AttemptOutcome.PartialSuccess found = null;
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken value = p.nextToken();
        if (("partialSuccess".equals(name) || "partial_success".equals(name))
            && value == JsonToken.START_OBJECT) {
          long rejected = 0;
          String message = "";
          while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken v = p.nextToken();
            if (field.startsWith("rejected")) {
              rejected =
                  v == JsonToken.VALUE_STRING
                      ? Long.parseLong(p.getText().trim())
                      : p.getLongValue();
            } else if ("errorMessage".equals(field) || "error_message".equals(field)) {
              message = p.getText();
            } else {
              p.skipChildren();
            }
          }
          found = new AttemptOutcome.PartialSuccess(rejected, message == null ? "" : message);
        } else {
          p.skipChildren();
        }
      }
      return found;
    } catch (IOException | RuntimeException malformed) {
      return null;
    }
  }

  /**
   * The message (field 2) of a serialized {@code google.rpc.Status}; empty when absent or
   * malformed.
   */
  static String statusMessage(byte[] status) {
    return RpcStatus.message(status);
  }

  /**
   * The {@code retry_delay} of a {@code google.rpc.RetryInfo} among the details of a serialized
   * {@code google.rpc.Status}, in nanoseconds; -1 when there is none (see {@link
   * RpcStatus#retryDelayNanos}).
   */
  static long retryInfoDelayNanos(byte[] status) {
    return RpcStatus.retryDelayNanos(status);
  }
}
