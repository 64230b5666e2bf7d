package io.otlp4j.wire;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufOutputStream;
import java.io.CharConversionException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.Objects;

/**
 * Streaming transcoder between OTLP/JSON and the protobuf encoding of the three OTLP export
 * requests ({@code Export{Trace,Metrics,Logs}ServiceRequest}), both ways: JSON is read with
 * Jackson's streaming parser, and written as bytes straight from the protobuf (no generator, which
 * cost about half of the transcoding); no object tree, no protobuf-java.
 *
 * <h2>The OTLP/JSON rules it follows</h2>
 *
 * <ul>
 *   <li>Trace and span ids (of spans, links, log records, exemplars) are hex strings: read in
 *       either case, written lower-case; an empty string is an absent id; any other length than 32
 *       (trace) or 16 (span) hex digits, or a non-hex digit, is refused naming the field. Writing
 *       refuses an id whose byte length is not 16 or 8 for the same reason: its JSON could not be
 *       read back.
 *   <li>Enums are written as integers; read from integers or from their value names (an unknown
 *       name reads as the default, as protobuf's JSON parser does when ignoring unknown fields).
 *   <li>64-bit integers are written as decimal strings and read from strings or numbers (including
 *       protobuf JSON's integral forms such as {@code 1e3}); unsigned values above {@code
 *       Long.MAX_VALUE} are read and written as unsigned. Doubles are numbers, with {@code "NaN"},
 *       {@code "Infinity"} and {@code "-Infinity"} as strings (read from strings too).
 *   <li>{@code bytesValue} is base64: written standard and padded, read standard or URL-safe.
 *   <li>Keys are written lowerCamelCase; the proto field names (snake_case) are read too; unknown
 *       keys are skipped, whatever their value; {@code null} is an absent field. A known key given
 *       twice in one object (also as both spellings), or two members of one oneof, is refused, as
 *       protobuf's JSON parser does.
 *   <li>proto3 default values are left out when writing, except where presence is part of the
 *       message: {@code AnyValue}'s value, {@code NumberDataPoint} and {@code Exemplar} values, the
 *       metric's data, {@code optional} fields, and any set message field ({@code {}}). So the JSON
 *       reads back to the same message.
 * </ul>
 *
 * <h2>Errors</h2>
 *
 * Malformed input of either kind (JSON syntax, truncation, wrong value types, bad ids, numbers out
 * of range, protobuf structure, invalid UTF-8 in a protobuf string) throws {@link
 * WireFormatException} with the byte offset (for a {@code byte[]}/{@code ByteBuf}/stream input,
 * relative to where the caller's input starts) and the reason; no other exception comes from input.
 * Message nesting (which only {@code AnyValue} arrays and key-value lists can deepen) is bounded at
 * {@link #MAX_NESTING_DEPTH} in both directions, protobuf-java's own default limit, so that
 * whatever is accepted the official classes accept too; JSON nesting as a whole (unknown values
 * included) is bounded at 232 levels by the parser's read constraints. Hostile input cannot exhaust
 * the stack. Output already written when an error is found stays written: the caller discards it
 * (and {@link ProtoWriter#reset() resets} a writer).
 *
 * <h2>Field order</h2>
 *
 * protobuf → JSON writes fields in wire order (for canonical input: field-number order), grouping a
 * repeated field's elements at its first occurrence; JSON → protobuf writes fields in the JSON's
 * key order. Canonical protobuf without unknown fields therefore round-trips to identical bytes
 * (unknown fields are dropped: JSON has no form for them), and any input is stable after one round
 * trip.
 *
 * <h2>Thread-safety and buffers</h2>
 *
 * Stateless and thread-safe: every call uses its own small state and the shared {@link
 * JsonFactory}. No method takes ownership of a {@link ByteBuf}: buffers passed in are read between
 * their reader and writer indexes, left unchanged and not released; buffers passed out are written
 * at their writer index.
 */
public final class OtlpJson {

  /**
   * How deep messages may nest below the request before input is refused: protobuf-java's default
   * recursion limit, so anything transcoded parses with the official classes. Only {@code AnyValue}
   * arrays (two levels each) and key-value lists (three levels each) nest that deep: a span
   * attribute holds up to 47 nested arrays or 31 nested key-value lists.
   */
  public static final int MAX_NESTING_DEPTH = 100;

  /**
   * JSON nesting the parser accepts at all: each message level takes at most an object and an
   * array.
   */
  static final int MAX_JSON_NESTING = 2 * MAX_NESTING_DEPTH + 32;

  private static final JsonFactory FACTORY =
      JsonFactory.builder()
          .enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
          .enable(StreamWriteFeature.USE_FAST_DOUBLE_WRITER)
          .disable(StreamWriteFeature.AUTO_CLOSE_TARGET)
          // After an error the output must stay visibly truncated, not be closed into valid-looking
          // JSON.
          .disable(StreamWriteFeature.AUTO_CLOSE_CONTENT)
          .disable(StreamReadFeature.AUTO_CLOSE_SOURCE)
          // Canonicalised (shared, reused) names are what makes key lookup allocation-free;
          // interning
          // them in the JVM's string table would let hostile keys grow it.
          .disable(JsonFactory.Feature.INTERN_FIELD_NAMES)
          .streamReadConstraints(
              com.fasterxml.jackson.core.StreamReadConstraints.builder()
                  .maxNestingDepth(MAX_JSON_NESTING)
                  .build())
          .build();

  private OtlpJson() {}

  // ---------------------------------------------------------------- JSON -> protobuf

  /** Transcodes an OTLP/JSON request of {@code signal} to its protobuf encoding. */
  public static byte[] toProtobuf(Signal signal, byte[] json) {
    return toProtobuf(signal, json, 0, json.length);
  }

  /**
   * Transcodes {@code json[offset, offset + length)}; error offsets are relative to {@code offset}.
   */
  public static byte[] toProtobuf(Signal signal, byte[] json, int offset, int length) {
    ProtoWriter out = new ProtoWriter(initialWriterCapacity(length));
    toProtobuf(signal, json, offset, length, out);
    return out.toByteArray();
  }

  /**
   * Protobuf is about half the size of its OTLP/JSON, and the writer also holds 5-byte length slots
   * until it finishes; beyond 1 MiB the writer grows as needed rather than trusting the input's
   * size.
   */
  private static int initialWriterCapacity(int jsonLength) {
    return Math.max(256, Math.min(1 << 20, jsonLength / 8 * 5));
  }

  /**
   * Appends the fields of the protobuf encoding of an OTLP/JSON request to {@code out} (call {@link
   * ProtoWriter#reset()} first for a message of its own). After a {@link WireFormatException} the
   * writer holds part of the message: reset it.
   */
  public static void toProtobuf(
      Signal signal, byte[] json, int offset, int length, ProtoWriter out) {
    Objects.requireNonNull(signal, "signal");
    Objects.requireNonNull(out, "out");
    Objects.checkFromIndexSize(offset, length, json.length);
    JsonParser parser;
    try {
      parser = FACTORY.createParser(json, offset, length);
    } catch (CharConversionException e) {
      throw wireFormat(e); // the first bytes look like an encoding Jackson cannot read
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    try {
      transcode(signal, parser, out);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a byte array does not fail to read
    }
  }

  /**
   * As {@link #toProtobuf(Signal, byte[], int, int, ProtoWriter)} for the readable bytes of {@code
   * json}, which is neither released nor moved. A heap buffer is read in place; a direct one is
   * copied once into a heap array.
   */
  public static void toProtobuf(Signal signal, ByteBuf json, ProtoWriter out) {
    int length = json.readableBytes();
    if (json.hasArray()) {
      toProtobuf(signal, json.array(), json.arrayOffset() + json.readerIndex(), length, out);
    } else {
      byte[] copy = new byte[length];
      json.getBytes(json.readerIndex(), copy);
      toProtobuf(signal, copy, 0, length, out);
    }
  }

  /**
   * Transcodes the readable bytes of {@code json} (not released, not moved) to a protobuf byte
   * array.
   */
  public static byte[] toProtobuf(Signal signal, ByteBuf json) {
    ProtoWriter out = new ProtoWriter(initialWriterCapacity(json.readableBytes()));
    toProtobuf(signal, json, out);
    return out.toByteArray();
  }

  /**
   * Reads an OTLP/JSON request from {@code json} (UTF-8, or any encoding Jackson detects) to its
   * end and appends its protobuf fields to {@code out}. The stream is not closed.
   *
   * @throws IOException only when the stream itself fails; malformed JSON is a {@link
   *     WireFormatException}
   */
  public static void toProtobuf(Signal signal, InputStream json, ProtoWriter out)
      throws IOException {
    Objects.requireNonNull(signal, "signal");
    Objects.requireNonNull(out, "out");
    JsonParser parser;
    try {
      parser = FACTORY.createParser(json);
    } catch (JacksonException e) {
      throw wireFormat(e);
    } catch (CharConversionException e) {
      throw wireFormat(e);
    }
    transcode(signal, parser, out);
  }

  private static void transcode(Signal signal, JsonParser parser, ProtoWriter out)
      throws IOException {
    try (JsonParser p = parser) {
      new JsonToProtobuf(p, out).readRequest(OtlpJsonSchema.request(signal));
    } catch (JacksonException e) {
      throw wireFormat(e);
    } catch (CharConversionException e) {
      throw wireFormat(e);
    }
  }

  // ---------------------------------------------------------------- protobuf -> JSON

  /** Transcodes the protobuf encoding of a {@code signal} request to OTLP/JSON (UTF-8). */
  public static byte[] toJson(Signal signal, byte[] protobuf) {
    return toJson(signal, protobuf, 0, protobuf.length);
  }

  /**
   * Transcodes {@code protobuf[offset, offset + length)}; error offsets are relative to {@code
   * offset}.
   */
  public static byte[] toJson(Signal signal, byte[] protobuf, int offset, int length) {
    JsonOutput out = new JsonOutput(Math.max(256, length * 2));
    try {
      toJson(signal, protobuf, offset, length, out);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // an array does not fail to write
    }
    return Arrays.copyOf(out.bytes(), out.size());
  }

  /**
   * Writes the OTLP/JSON form (UTF-8) of {@code protobuf[offset, offset + length)} to {@code out},
   * not closing it. The JSON goes to the stream as it is made, in chunks of about 16 KiB (more when
   * one span, metric or log record has a longer JSON: each is written whole).
   */
  public static void toJson(
      Signal signal, byte[] protobuf, int offset, int length, OutputStream out) throws IOException {
    Objects.requireNonNull(out, "out");
    JsonOutput json = new JsonOutput(out);
    try {
      toJson(signal, protobuf, offset, length, json);
    } finally {
      json.drain(); // after an error too: the output stays visibly unfinished
    }
  }

  private static void toJson(Signal signal, byte[] protobuf, int offset, int length, JsonOutput out)
      throws IOException {
    Objects.requireNonNull(signal, "signal");
    Objects.checkFromIndexSize(offset, length, protobuf.length);
    new ProtobufToJson(out, protobuf, offset)
        .writeRequest(OtlpJsonSchema.request(signal), offset, offset + length);
  }

  /**
   * Writes the OTLP/JSON form of the readable bytes of {@code protobuf} (not released, not moved)
   * at the writer index of {@code out}; ownership of both stays with the caller. A heap buffer is
   * read in place; a direct one is copied once into a heap array.
   */
  public static void toJson(Signal signal, ByteBuf protobuf, ByteBuf out) {
    int length = protobuf.readableBytes();
    byte[] array;
    int offset;
    if (protobuf.hasArray()) {
      array = protobuf.array();
      offset = protobuf.arrayOffset() + protobuf.readerIndex();
    } else {
      array = new byte[length];
      protobuf.getBytes(protobuf.readerIndex(), array);
      offset = 0;
    }
    try (ByteBufOutputStream stream = new ByteBufOutputStream(out)) {
      toJson(signal, array, offset, length, stream);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Writes the request as one JSON object value to {@code generator} (which the caller configures,
   * flushes and closes): the same tokens as the other {@code toJson} methods write, formatted by
   * the generator (a pretty printer, say). Slower than writing bytes: the JSON is made first, then
   * copied token by token; after a {@link WireFormatException} nothing was written.
   */
  public static void toJson(
      Signal signal, byte[] protobuf, int offset, int length, JsonGenerator generator)
      throws IOException {
    Objects.requireNonNull(generator, "generator");
    byte[] json = toJson(signal, protobuf, offset, length);
    try (JsonParser p = FACTORY.createParser(json)) {
      p.nextToken();
      generator.copyCurrentStructure(p);
    }
  }

  // ---------------------------------------------------------------- detection

  /**
   * The signal of an OTLP/JSON request, from its top-level key ({@code resourceSpans} or {@code
   * resource_spans} → TRACES, and likewise for metrics and logs), or {@code null} when the
   * top-level object has none of them (an empty {@code {}}, say). Reads only as far as the first
   * such key; unknown keys before it are skipped.
   *
   * @throws WireFormatException when the JSON is malformed before a signal key is found, or is not
   *     an object
   */
  public static Signal detectJsonSignal(byte[] json) {
    try (JsonParser p = FACTORY.createParser(json)) {
      JsonToken t = p.nextToken();
      if (t != JsonToken.START_OBJECT) {
        throw new WireFormatException(
            JsonToProtobuf.offset(p.currentTokenLocation()),
            "expected a JSON object at the top level");
      }
      String name;
      while ((name = p.nextFieldName()) != null) {
        for (Signal signal : Signal.values()) {
          OtlpJsonSchema.Field f = OtlpJsonSchema.request(signal).field(1);
          if (f.jsonName.equals(name) || f.protoName.equals(name)) {
            return signal;
          }
        }
        p.nextToken();
        p.skipChildren();
      }
      return null;
    } catch (JacksonException e) {
      throw wireFormat(e);
    } catch (CharConversionException e) {
      throw wireFormat(e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Jackson guesses the encoding from the first bytes (RFC 4627's rule): input that looks like
   * UTF-32 or UTF-16 is decoded so, and a character that encoding cannot hold is a {@link
   * CharConversionException}, an IOException that is not a {@link JacksonException}. It is
   * malformed input like any other (found by fuzzing: {@code 7b 00 00 00 ...} escaped as an
   * UncheckedIOException).
   */
  private static WireFormatException wireFormat(CharConversionException e) {
    return new WireFormatException(-1, "malformed JSON: " + e.getMessage(), e);
  }

  private static WireFormatException wireFormat(JacksonException e) {
    String reason = e.getOriginalMessage();
    if (e instanceof StreamConstraintsException) {
      reason = "JSON exceeds a limit: " + reason;
    } else {
      reason = "malformed JSON: " + reason;
    }
    return new WireFormatException(JsonToProtobuf.offset(e.getLocation()), reason, e);
  }
}
