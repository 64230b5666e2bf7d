package io.otlp4j.relay.kafka;

import io.netty.buffer.ByteBuf;
import io.otlp4j.wire.ResourceRewrite;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.WalkSummary;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;

/** {@code header_extraction}: a record's headers as resource attributes. Stateless. */
final class HeaderAttributes {
  private HeaderAttributes() {}

  /**
   * The request with {@code kafka.header.<name>} resource attributes (as the Collector) for the
   * {@code headers} that {@code r} carries.
   *
   * <p>Buffer ownership: {@code request} is borrowed (unchanged); the caller owns the returned
   * buffer (a new one, or {@code request} retained when {@code r} carries none of the headers).
   */
  static ByteBuf apply(
      List<String> headers,
      Signal signal,
      ByteBuf request,
      WalkSummary summary,
      ConsumerRecord<byte[], byte[]> r) {
    ResourceRewrite.Builder b = ResourceRewrite.builder();
    boolean any = false;
    for (String name : headers) {
      Header h = r.headers().lastHeader(name);
      if (h != null && h.value() != null) {
        b.upsert("kafka.header." + name, new String(h.value(), StandardCharsets.UTF_8));
        any = true;
      }
    }
    return any ? b.build().apply(signal, request, summary) : request.retain();
  }
}
