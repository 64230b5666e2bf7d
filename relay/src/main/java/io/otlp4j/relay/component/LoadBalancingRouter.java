package io.otlp4j.relay.component;

import io.netty.buffer.ByteBuf;
import io.otlp4j.wire.AttributeList;
import io.otlp4j.wire.ElementView;
import io.otlp4j.wire.EncodedAttribute;
import io.otlp4j.wire.RequestPartitioner;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.ValueView;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.zip.CRC32;

/**
 * Splits one encoded export request into one request per backend, by routing key, without decoding
 * it: one {@link RequestPartitioner} walk reads each routing unit's key (a span's or log record's
 * trace id, a resource's {@code service.name} or attributes, a metric's name), hashes it onto the
 * ring and writes every backend's part at once, each part the input's own bytes as retained slices
 * plus new length prefixes; a request that has one owner goes on whole (one retained slice).
 *
 * <p><b>Buffer ownership:</b> {@link #split} only reads the request (the caller keeps and releases
 * it); each returned {@link Part}'s buffer is the caller's to release. On an exception nothing is
 * left allocated.
 *
 * <p>Immutable and thread-safe; each call uses its own small scratch state.
 */
final class LoadBalancingRouter {

  /** The Collector's {@code routing_key} values otlp4j supports. */
  enum RoutingKey {
    TRACE_ID("traceID"),
    SERVICE("service"),
    RESOURCE("resource"),
    METRIC("metric");

    final String id;

    RoutingKey(String id) {
      this.id = id;
    }

    static RoutingKey fromId(String id) {
      for (RoutingKey k : values()) {
        if (k.id.equals(id)) {
          return k;
        }
      }
      return null;
    }

    /**
     * The key used for {@code signal}: metrics have no trace id, so {@code traceID} routes them by
     * service (the Collector's metrics default); {@code metric} routes traces and logs by trace id.
     */
    RoutingKey forSignal(Signal signal) {
      if (signal == Signal.METRICS && this == TRACE_ID) {
        return SERVICE;
      }
      if (signal != Signal.METRICS && this == METRIC) {
        return TRACE_ID;
      }
      return this;
    }
  }

  /** One backend's share of a request: the buffer is owned by whoever holds the part. */
  record Part(int owner, ByteBuf request, long items) {}

  private static final byte[] SERVICE_NAME = "service.name".getBytes(StandardCharsets.UTF_8);
  private static final RequestPartitioner PARTITIONER =
      RequestPartitioner.builder().validation(false).build();

  private final RoutingKey key;

  LoadBalancingRouter(RoutingKey key) {
    this.key = key;
  }

  RoutingKey key() {
    return key;
  }

  /**
   * The parts of {@code request} per owner on {@code ring} (not empty), in owner order.
   *
   * @param request only read; the caller keeps it
   * @return parts whose buffers the caller owns
   * @throws io.otlp4j.wire.WireFormatException when the request does not walk as {@code signal}
   */
  List<Part> split(Signal signal, ByteBuf request, LoadBalancingRing ring) {
    RoutingKey k = key.forSignal(signal);
    Owners owners = new Owners(k, ring);
    RequestPartitioner.Parts parts =
        PARTITIONER.partition(
            signal, request, unitKind(k, signal), ring.endpoints().size(), owners);
    int count = parts.nonEmpty();
    if (count == 0) {
      // No routing unit at all (only empty containers): it goes on whole to the first backend.
      return List.of(new Part(0, request.retainedSlice(), 0));
    }
    List<Part> out = new ArrayList<>(count);
    for (int i = 0; i < parts.outputs(); i++) {
      if (parts.request(i) != null) {
        out.add(new Part(i, parts.request(i), parts.items(i)));
      }
    }
    return out;
  }

  /** Which kind of element carries the routing key. */
  private static ElementView.Kind unitKind(RoutingKey key, Signal signal) {
    return switch (key) {
      case SERVICE, RESOURCE -> ElementView.Kind.RESOURCE;
      case METRIC -> ElementView.Kind.METRIC;
      case TRACE_ID -> signal == Signal.LOGS ? ElementView.Kind.LOG_RECORD : ElementView.Kind.SPAN;
    };
  }

  /** Each unit's owner on the ring: its routing key hashed (CRC32), as the Collector does. */
  private static final class Owners implements RequestPartitioner.Assigner {
    final RoutingKey key;
    final LoadBalancingRing ring;
    final CRC32 crc = new CRC32();
    final byte[] id = new byte[16];
    long noTraceIdKey = -1;
    final ValueView value = new ValueView();

    Owners(RoutingKey key, LoadBalancingRing ring) {
      this.key = key;
      this.ring = ring;
    }

    @Override
    public int output(ElementView unit) {
      return switch (unit.kind()) {
        case RESOURCE -> resourceOwner(unit);
        case METRIC -> metricOwner(unit);
        default -> traceIdOwner(unit);
      };
    }

    private int resourceOwner(ElementView resource) {
      crc.reset();
      if (key == RoutingKey.SERVICE) {
        ValueView v = resource.attribute(SERVICE_NAME, value);
        for (int i = 0, n = v.rawLength(); i < n; i++) {
          crc.update(v.rawByte(i));
        }
      } else {
        resourceIdentity(resource.attributes(), crc);
      }
      return ring.owner(crc.getValue());
    }

    private int metricOwner(ElementView metric) {
      crc.reset();
      crc.update(metric.name().toString().getBytes(StandardCharsets.UTF_8));
      return ring.owner(crc.getValue());
    }

    /**
     * The owner of an item's trace id; an item without one (a log record) goes, as in the
     * Collector, to a backend picked at random, the same one for the whole request.
     */
    private int traceIdOwner(ElementView item) {
      if (!item.hasTraceId()) {
        if (noTraceIdKey < 0) {
          noTraceIdKey = ThreadLocalRandom.current().nextLong(1L << 32);
        }
        return ring.owner(noTraceIdKey);
      }
      long hi = item.traceIdHigh();
      long lo = item.traceIdLow();
      for (int i = 0; i < 8; i++) {
        id[i] = (byte) (hi >>> (56 - 8 * i));
        id[8 + i] = (byte) (lo >>> (56 - 8 * i));
      }
      crc.reset();
      crc.update(id, 0, 16);
      return ring.owner(crc.getValue());
    }
  }

  /**
   * A resource's identity for {@code routing_key: resource}: its attributes sorted by key, each as
   * its encoded {@code KeyValue}, so that the order they arrive in does not matter.
   */
  static void resourceIdentity(AttributeList attributes, CRC32 crc) {
    int n = attributes.size();
    byte[][] encoded = new byte[n][];
    String[] keys = new String[n];
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      keys[i] = attributes.key(i).toString();
      encoded[i] = EncodedAttribute.of(keys[i], attributes.value(i)).toByteArray();
      order[i] = i;
    }
    Arrays.sort(order, Comparator.comparing(i -> keys[i]));
    for (int i : order) {
      crc.update(encoded[i]);
    }
  }
}
