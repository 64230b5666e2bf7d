package io.otlp4j.relay.component;

import io.netty.buffer.ByteBuf;
import io.otlp4j.wire.AttributeList;
import io.otlp4j.wire.EditPolicy;
import io.otlp4j.wire.ElementView;
import io.otlp4j.wire.EncodedAttribute;
import io.otlp4j.wire.RequestEditor;
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
 * it: a first {@link RequestEditor} pass that keeps everything reads each routing unit's key (a
 * span's or log record's trace id, a resource's {@code service.name} or attributes, a metric's
 * name) and notes its owner on the ring; a request that has one owner goes on whole (one retained
 * slice); otherwise one edit per owner keeps that owner's units and drops the others, so that every
 * part is the input's own bytes as retained slices plus new length prefixes.
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
  private static final RequestEditor EDITOR = RequestEditor.builder().validation(false).build();

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
    Classifier c = new Classifier(key.forSignal(signal), signal, ring);
    EDITOR.edit(signal, request, c).release();
    int owners = 0;
    int only = -1;
    for (int i = 0; i < c.items.length; i++) {
      if (c.items[i] > 0 || c.units[i] > 0) {
        owners++;
        only = i;
      }
    }
    if (owners <= 1) {
      long items = only < 0 ? 0 : c.items[only];
      return List.of(new Part(Math.max(only, 0), request.retainedSlice(), items));
    }
    List<Part> parts = new ArrayList<>(owners);
    try {
      for (int i = 0; i < c.items.length; i++) {
        if (c.items[i] > 0 || c.units[i] > 0) {
          ByteBuf part = EDITOR.edit(signal, request, new Selector(c, i));
          parts.add(new Part(i, part, c.items[i]));
        }
      }
      return parts;
    } catch (RuntimeException | Error e) {
      parts.forEach(p -> p.request().release());
      throw e;
    }
  }

  /** Which kind of element carries the routing key. */
  private static ElementView.Kind unitKind(RoutingKey key, Signal signal) {
    return switch (key) {
      case SERVICE, RESOURCE -> ElementView.Kind.RESOURCE;
      case METRIC -> ElementView.Kind.METRIC;
      case TRACE_ID -> signal == Signal.LOGS ? ElementView.Kind.LOG_RECORD : ElementView.Kind.SPAN;
    };
  }

  /** The first pass: every unit's owner, in order, and the items and units each owner gets. */
  private static final class Classifier implements EditPolicy {
    final RoutingKey key;
    final ElementView.Kind unit;
    final LoadBalancingRing ring;
    final long[] items;
    final int[] units;
    final CRC32 crc = new CRC32();
    final byte[] id = new byte[16];
    int[] assigned = new int[64];
    int count;
    int current = -1;
    long noTraceIdKey = -1;
    final ValueView value = new ValueView();

    Classifier(RoutingKey key, Signal signal, LoadBalancingRing ring) {
      this.key = key;
      this.unit = unitKind(key, signal);
      this.ring = ring;
      int n = ring.endpoints().size();
      this.items = new long[n];
      this.units = new int[n];
    }

    @Override
    public boolean visits(ElementView.Kind kind) {
      return kind == unit
          || kind == ElementView.Kind.SPAN
          || kind == ElementView.Kind.LOG_RECORD
          || kind == ElementView.Kind.DATA_POINT;
    }

    private void assign(int owner) {
      if (count == assigned.length) {
        assigned = Arrays.copyOf(assigned, count * 2);
      }
      assigned[count++] = owner;
      units[owner]++;
      current = owner;
    }

    private void item() {
      if (current >= 0) {
        items[current]++;
      }
    }

    @Override
    public Decision resource(ElementView resource) {
      if (unit == ElementView.Kind.RESOURCE) {
        crc.reset();
        if (key == RoutingKey.SERVICE) {
          ValueView v = resource.attribute(SERVICE_NAME, value);
          for (int i = 0, n = v.rawLength(); i < n; i++) {
            crc.update(v.rawByte(i));
          }
        } else {
          resourceIdentity(resource.attributes(), crc);
        }
        assign(ring.owner(crc.getValue()));
      }
      return Decision.KEEP;
    }

    @Override
    public Decision metric(ElementView metric) {
      if (unit == ElementView.Kind.METRIC) {
        crc.reset();
        crc.update(metric.name().toString().getBytes(StandardCharsets.UTF_8));
        assign(ring.owner(crc.getValue()));
      }
      return Decision.KEEP;
    }

    @Override
    public Decision span(ElementView span) {
      if (unit == ElementView.Kind.SPAN) {
        assign(traceIdOwner(span));
      }
      item();
      return Decision.KEEP;
    }

    @Override
    public Decision logRecord(ElementView record) {
      if (unit == ElementView.Kind.LOG_RECORD) {
        assign(traceIdOwner(record));
      }
      item();
      return Decision.KEEP;
    }

    @Override
    public Decision dataPoint(ElementView point) {
      item();
      return Decision.KEEP;
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

  /** A second pass: keeps the units the first pass gave to one owner, drops the rest. */
  private static final class Selector implements EditPolicy {
    private final int[] assigned;
    private final int owner;
    private final ElementView.Kind unit;
    private int next;

    Selector(Classifier c, int owner) {
      this.assigned = c.assigned;
      this.owner = owner;
      this.unit = c.unit;
    }

    @Override
    public boolean visits(ElementView.Kind kind) {
      return kind == unit;
    }

    private Decision decide() {
      return assigned[next++] == owner ? Decision.KEEP : Decision.DROP;
    }

    @Override
    public Decision resource(ElementView resource) {
      return decide();
    }

    @Override
    public Decision metric(ElementView metric) {
      return decide();
    }

    @Override
    public Decision span(ElementView span) {
      return decide();
    }

    @Override
    public Decision logRecord(ElementView record) {
      return decide();
    }
  }
}
