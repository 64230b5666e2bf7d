package io.otlp4j.receiver;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.otlp4j.wire.Compression;
import io.otlp4j.wire.OtlpJson;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.WireFormatException;

/**
 * Turns an aggregated OTLP/HTTP body into the protobuf bytes of its request, for {@link
 * OtlpHttpHandler}: decompresses it (within the size limit) and transcodes OTLP/JSON, resizing the
 * request's memory reservation to what is held after each step. Stateless.
 */
final class OtlpHttpBodyDecoder {

  private OtlpHttpBodyDecoder() {}

  /**
   * Decodes {@code payload}.
   *
   * <p><b>Buffer ownership:</b> ownership of {@code payload} is transferred to this method, which
   * releases it on every path; the caller must release the returned buffer.
   *
   * @return the request's protobuf bytes, or {@code null} if {@code held} could not grow to hold
   *     them (they are then released; {@code held} is left to the caller)
   * @throws WireFormatException if the body does not decompress within {@code maxRequestBytes} or
   *     is not valid OTLP/JSON
   */
  static ByteBuf toProtobuf(
      ByteBuf payload,
      Compression compression,
      boolean json,
      Signal signal,
      ByteBufAllocator alloc,
      int maxRequestBytes,
      BudgetReservation held) {
    if (compression != Compression.NONE) {
      ByteBuf out;
      try {
        out = compression.decompress(payload, alloc, maxRequestBytes);
      } finally {
        payload.release();
      }
      payload = out;
      // The compressed bytes are gone; the reservation now covers the decompressed ones.
      if (!held.resize(payload.readableBytes())) {
        payload.release();
        return null;
      }
    }
    if (json) {
      byte[] protobuf;
      try {
        protobuf = OtlpJson.toProtobuf(signal, payload);
      } finally {
        payload.release();
      }
      payload = Unpooled.wrappedBuffer(protobuf);
      if (!held.resize(protobuf.length)) {
        payload.release();
        return null;
      }
    }
    return payload;
  }
}
