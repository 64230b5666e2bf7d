package io.otlp4j.relay.cli;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.otlp4j.wire.ProtoWriter;
import io.otlp4j.wire.Signal;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Builds synthetic OTLP export requests for {@code otlp4j send}: one resource with the attributes
 * an OpenTelemetry SDK sets, one scope, and {@code items} spans, metric data points or log records
 * with attributes of realistic size (an HTTP server's: method, route, URL, status, user agent...).
 *
 * <h2>Cost</h2>
 *
 * Every request is new: fresh random trace and span ids (one trace per {@value #SPANS_PER_TRACE}
 * spans, the first its root and parent of the others) and the current time. What does not change is
 * encoded once: the resource and scope messages and a few variants of each item's attribute block
 * are kept as encoded bytes and copied in with {@link ProtoWriter#raw}, so a request costs a
 * handful of field writes per item, one array copy into the output buffer and no object tree.
 *
 * <p>Not thread-safe: the send command builds every request on its one dispatch thread.
 */
final class SyntheticRequests {
  /** Spans that share one trace id. */
  static final int SPANS_PER_TRACE = 10;

  /** Data points per metric. */
  static final int POINTS_PER_METRIC = 10;

  private static final int VARIANTS = 8;
  private static final String[] ROUTES = {
    "/api/v1/cart/items", "/api/v1/checkout", "/api/v1/products/{id}", "/api/v1/users/{id}/orders",
    "/api/v1/search", "/api/v1/recommendations", "/api/v1/payments/{id}", "/health"
  };
  private static final String[] METHODS = {"GET", "POST", "GET", "GET", "GET", "GET", "PUT", "GET"};
  private static final String USER_AGENT =
      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
          + "Chrome/126.0.0.0 Safari/537.36";

  private final Signal signal;
  private final int items;
  private final ProtoWriter writer = new ProtoWriter(64 * 1024);
  private final SplittableRandom random;
  private final byte[] resource;
  private final byte[] scope;
  private final byte[][] itemAttributes = new byte[VARIANTS][];
  private final String[] names = new String[VARIANTS];
  private final byte[] traceId = new byte[16];
  private final byte[] spanId = new byte[8];
  private final byte[] rootSpanId = new byte[8];

  SyntheticRequests(Signal signal, int items, long seed) {
    if (items < 1) {
      throw new IllegalArgumentException("items must be >= 1: " + items);
    }
    this.signal = signal;
    this.items = items;
    this.random = new SplittableRandom(seed);
    ProtoWriter w = new ProtoWriter(4096);
    // Resource { attributes = 1 }
    keyValue(w, 1, "service.name", "otlp4j-send");
    keyValue(w, 1, "service.version", "1.4.2");
    keyValue(
        w, 1, "service.instance.id", new UUID(random.nextLong(), random.nextLong()).toString());
    keyValue(w, 1, "deployment.environment.name", "load-test");
    keyValue(w, 1, "host.name", "loadgen-" + Integer.toHexString(random.nextInt(0x10000)));
    keyValue(w, 1, "os.type", "linux");
    keyValue(w, 1, "process.runtime.name", "OpenJDK Runtime Environment");
    keyValue(w, 1, "process.runtime.version", Runtime.version().toString());
    keyValue(w, 1, "telemetry.sdk.name", "otlp4j");
    keyValue(w, 1, "telemetry.sdk.language", "java");
    keyValue(w, 1, "telemetry.sdk.version", "0.1.0");
    this.resource = w.toByteArray();
    // InstrumentationScope { name = 1, version = 2 }
    this.scope = w.reset().string(1, "io.otlp4j.send").string(2, "0.1.0").toByteArray();
    int attributesField = signal == Signal.TRACES ? 9 : signal == Signal.METRICS ? 7 : 6;
    for (int v = 0; v < VARIANTS; v++) {
      w.reset();
      String route = ROUTES[v];
      keyValue(w, attributesField, "http.request.method", METHODS[v]);
      keyValue(w, attributesField, "http.route", route);
      keyValue(w, attributesField, "http.response.status_code", v == 5 ? 503 : 200);
      keyValue(w, attributesField, "server.address", "shop.example.com");
      keyValue(w, attributesField, "url.scheme", "https");
      if (signal != Signal.METRICS) { // metric attributes stay low-cardinality, as they should
        keyValue(
            w,
            attributesField,
            "url.full",
            "https://shop.example.com"
                + route.replace("{id}", "4711")
                + "?session="
                + Long.toHexString(random.nextLong()));
        keyValue(w, attributesField, "user_agent.original", USER_AGENT);
        keyValue(w, attributesField, "client.address", "10.1." + v + "." + (17 + v));
      }
      itemAttributes[v] = w.toByteArray();
      names[v] =
          signal == Signal.TRACES
              ? METHODS[v] + " " + route
              : signal == Signal.METRICS
                  ? "http.server.request.count"
                  : METHODS[v] + " " + route + " answered in " + (3 + v * 7) + " ms";
    }
  }

  /** Items (spans, metric data points or log records) in every request. */
  int items() {
    return items;
  }

  Signal signal() {
    return signal;
  }

  /**
   * Encodes the next request into a new buffer.
   *
   * @return a buffer the caller owns (and must release, or hand on with its ownership)
   */
  ByteBuf next(ByteBufAllocator alloc) {
    long now = TimeUnit.MILLISECONDS.toNanos(System.currentTimeMillis());
    ProtoWriter w = writer.reset();
    w.begin(1); // Export*ServiceRequest.resource_{spans,metrics,logs}
    w.begin(1).raw(resource, 0, resource.length).end(); // .resource
    w.begin(2); // .scope_{spans,metrics,logs}
    w.begin(1).raw(scope, 0, scope.length).end(); // .scope
    switch (signal) {
      case TRACES:
        spans(w, now);
        break;
      case METRICS:
        metrics(w, now);
        break;
      default:
        logs(w, now);
        break;
    }
    w.end().end().finish();
    ByteBuf out = alloc.buffer(w.size());
    return w.writeTo(out);
  }

  private void spans(ProtoWriter w, long now) {
    for (int i = 0; i < items; i++) {
      boolean root = i % SPANS_PER_TRACE == 0;
      if (root) {
        randomId(traceId);
        randomId(rootSpanId);
      }
      byte[] id = root ? rootSpanId : randomId(spanId);
      int v = i % VARIANTS;
      long duration = 100_000L + random.nextInt(50_000_000);
      w.begin(2); // ScopeSpans.spans
      w.bytes(1, traceId).bytes(2, id);
      if (!root) {
        w.bytes(4, rootSpanId);
      }
      w.string(5, root ? names[v] : "SELECT shop.orders");
      w.uint32(6, root ? 2 : 3); // SPAN_KIND_SERVER, SPAN_KIND_CLIENT
      w.fixed64(7, now - duration).fixed64(8, now);
      w.raw(itemAttributes[v], 0, itemAttributes[v].length);
      w.begin(15)
          .uint32(3, v == 5 ? 2 : 1)
          .end(); // Status.code: ERROR for the 503 variant, else OK
      w.fixed32(16, 0x100 | 1); // flags: sampled, parent-is-remote known
      w.end();
    }
  }

  private void metrics(ProtoWriter w, long now) {
    long start = now - TimeUnit.SECONDS.toNanos(60);
    for (int i = 0; i < items; i += POINTS_PER_METRIC) {
      w.begin(2); // ScopeMetrics.metrics
      w.string(1, i == 0 ? names[0] : names[0] + "." + (i / POINTS_PER_METRIC));
      w.string(2, "Requests the server answered").string(3, "{request}");
      w.begin(7); // Metric.sum
      for (int p = i; p < Math.min(items, i + POINTS_PER_METRIC); p++) {
        int v = p % VARIANTS;
        w.begin(1); // Sum.data_points
        w.raw(itemAttributes[v], 0, itemAttributes[v].length);
        w.fixed64(2, start).fixed64(3, now);
        w.fixed64(6, random.nextInt(1_000_000)); // as_int (sfixed64)
        w.end();
      }
      w.uint32(2, 2); // AGGREGATION_TEMPORALITY_CUMULATIVE
      w.bool(3, true); // is_monotonic
      w.end().end();
    }
  }

  private void logs(ProtoWriter w, long now) {
    for (int i = 0; i < items; i++) {
      if (i % SPANS_PER_TRACE == 0) {
        randomId(traceId);
      }
      int v = i % VARIANTS;
      w.begin(2); // ScopeLogs.log_records
      w.fixed64(1, now).fixed64(11, now);
      w.uint32(2, v == 5 ? 17 : 9)
          .string(3, v == 5 ? "ERROR" : "INFO"); // SEVERITY_NUMBER_ERROR / _INFO
      w.begin(5).string(1, names[v]).end(); // body: AnyValue.string_value
      w.raw(itemAttributes[v], 0, itemAttributes[v].length);
      w.fixed32(8, 1); // flags: sampled
      w.bytes(9, traceId).bytes(10, randomId(spanId));
      w.end();
    }
  }

  /** Fills {@code id} with random bytes, never all zero (an all-zero id is invalid in OTLP). */
  private byte[] randomId(byte[] id) {
    for (int i = 0; i < id.length; i += 8) {
      long bits = random.nextLong();
      if (bits == 0) {
        bits = 1;
      }
      for (int b = 0; b < 8; b++) {
        id[i + b] = (byte) (bits >>> (8 * b));
      }
    }
    return id;
  }

  /** A KeyValue { key = 1, value = 2: AnyValue { string_value = 1 } } as field {@code field}. */
  private static void keyValue(ProtoWriter w, int field, String key, String value) {
    w.begin(field).string(1, key).begin(2).string(1, value).end().end();
  }

  /** A KeyValue with AnyValue.int_value (3). */
  private static void keyValue(ProtoWriter w, int field, String key, long value) {
    w.begin(field).string(1, key).begin(2).int64(3, value).end().end();
  }
}
