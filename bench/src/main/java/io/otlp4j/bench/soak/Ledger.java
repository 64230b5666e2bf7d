package io.otlp4j.bench.soak;

import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Every item of the soak, counted at both ends.
 *
 * <p>The OpenTelemetry SDK client's spans carry the attribute {@value #ID_ATTRIBUTE}, a sequence
 * number from {@link #nextSdkId()}: for them the ledger knows exactly which were acknowledged (the
 * SDK exporter's result for the batch that held them was success) and how often each reached the
 * sink. {@code otlp4j send} reports only how many of its requests succeeded, not which; its spans
 * (resource {@code service.name = otlp4j-send}) are told apart by their random span ids, so for
 * them the check is by count: distinct span ids delivered must be at least the items acknowledged,
 * and a span id seen twice is a duplicate.
 *
 * <p>Thread-safe: every method synchronizes on this.
 */
final class Ledger {
  static final String ID_ATTRIBUTE = "soak.id";
  static final String SEND_SERVICE = "otlp4j-send";

  private final AtomicLong sdkIds = new AtomicLong();
  private final BitSet sdkAcked = new BitSet();
  private byte[] sdkDelivered = new byte[1 << 16]; // times each id arrived, saturating at 127
  private final Map<Long, Integer> sendDelivered = new HashMap<>();
  private long sendAckedItems;
  private long foreign;
  private long undecodable;
  private long deliveredRequests;

  /** A new unique id for an SDK span (the span is now "offered"). */
  long nextSdkId() {
    return sdkIds.getAndIncrement();
  }

  synchronized void sdkAcknowledged(long[] ids) {
    for (long id : ids) {
      if (id >= 0) {
        sdkAcked.set(Math.toIntExact(id));
      }
    }
  }

  synchronized void sendAcknowledged(long items) {
    sendAckedItems += items;
  }

  synchronized void undecodable() {
    undecodable++;
  }

  /** Records every span of a request the sink accepted; returns how many spans it held. */
  synchronized int delivered(ExportTraceServiceRequest request) {
    deliveredRequests++;
    int spans = 0;
    for (ResourceSpans rs : request.getResourceSpansList()) {
      boolean send = isSend(rs.getResource());
      for (ScopeSpans ss : rs.getScopeSpansList()) {
        for (Span span : ss.getSpansList()) {
          spans++;
          long id = sdkId(span);
          if (id >= 0) {
            int i = Math.toIntExact(id);
            if (i >= sdkDelivered.length) {
              sdkDelivered = Arrays.copyOf(sdkDelivered, Math.max(i + 1, sdkDelivered.length * 2));
            }
            if (sdkDelivered[i] < Byte.MAX_VALUE) {
              sdkDelivered[i]++;
            }
          } else if (send && span.getSpanId().size() == 8) {
            long key = ByteBuffer.wrap(span.getSpanId().toByteArray()).getLong();
            sendDelivered.merge(key, 1, Integer::sum);
          } else {
            foreign++;
          }
        }
      }
    }
    return spans;
  }

  private static boolean isSend(Resource resource) {
    for (KeyValue kv : resource.getAttributesList()) {
      if (kv.getKey().equals("service.name")) {
        return kv.getValue().getStringValue().equals(SEND_SERVICE);
      }
    }
    return false;
  }

  private static long sdkId(Span span) {
    for (KeyValue kv : span.getAttributesList()) {
      if (kv.getKey().equals(ID_ATTRIBUTE)) {
        return kv.getValue().getIntValue();
      }
    }
    return -1;
  }

  /** The soak's counts at one moment. */
  record Counts(
      long sdkOffered,
      long sdkAcked,
      long sdkDelivered,
      long sdkDuplicates,
      long sdkAckedNotDelivered,
      List<Long> sdkMissingSample,
      long sendAcked,
      long sendDelivered,
      long sendDuplicates,
      long foreign,
      long undecodable,
      long deliveredRequests) {

    long offered() {
      return sdkOffered;
    }

    long acknowledged() {
      return sdkAcked + sendAcked;
    }

    long delivered() {
      return sdkDelivered + sendDelivered;
    }

    long duplicates() {
      return sdkDuplicates + sendDuplicates;
    }

    /** Acknowledged items that never reached the sink: SDK ids exactly, send by count. */
    long lost() {
      return sdkAckedNotDelivered + Math.max(0, sendAcked - sendDelivered);
    }
  }

  synchronized Counts counts() {
    long offered = sdkIds.get();
    long delivered = 0;
    long duplicates = 0;
    long missing = 0;
    List<Long> sample = new ArrayList<>();
    for (int i = 0; i < offered && i < sdkDelivered.length; i++) {
      if (sdkDelivered[i] > 0) {
        delivered++;
        duplicates += sdkDelivered[i] - 1;
      }
    }
    for (int i = sdkAcked.nextSetBit(0); i >= 0; i = sdkAcked.nextSetBit(i + 1)) {
      if (i >= sdkDelivered.length || sdkDelivered[i] == 0) {
        missing++;
        if (sample.size() < 20) {
          sample.add((long) i);
        }
      }
    }
    long sendDuplicates = 0;
    for (int n : sendDelivered.values()) {
      sendDuplicates += n - 1;
    }
    return new Counts(
        offered,
        sdkAcked.cardinality(),
        delivered,
        duplicates,
        missing,
        sample,
        sendAckedItems,
        sendDelivered.size(),
        sendDuplicates,
        foreign,
        undecodable,
        deliveredRequests);
  }
}
