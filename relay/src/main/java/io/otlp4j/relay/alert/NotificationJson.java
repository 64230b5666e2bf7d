package io.otlp4j.relay.alert;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The JSON bodies of notifications: Alertmanager's {@code POST /api/v2/alerts} (an array of
 * postable alerts) and Alertmanager's webhook payload (version 4) for any other receiver.
 * Stateless.
 */
final class NotificationJson {
  private static final JsonFactory JSON = new JsonFactory();

  private NotificationJson() {}

  /** The body of {@code POST /api/v2/alerts}. */
  static byte[] alertmanager(List<Notice> notices) {
    return write(
        g -> {
          g.writeStartArray();
          for (Notice n : notices) {
            g.writeStartObject();
            map(g, "labels", n.labels());
            map(g, "annotations", n.annotations());
            g.writeStringField("startsAt", time(n.startsAt()));
            g.writeStringField("endsAt", time(n.endsAt()));
            g.writeStringField("generatorURL", n.generatorUrl());
            g.writeEndObject();
          }
          g.writeEndArray();
        });
  }

  /**
   * Alertmanager's webhook payload for one group (one rule): {@code status} is {@code firing} when
   * any of {@code notices} is, {@code groupLabels} holds {@code alertname}, {@code commonLabels}
   * and {@code commonAnnotations} what all alerts share.
   */
  static byte[] webhook(
      String receiver, String alertname, List<Notice> notices, String externalUrl) {
    boolean firing = notices.stream().anyMatch(Notice::firing);
    Map<String, String> commonLabels = common(notices.stream().map(Notice::labels).toList());
    Map<String, String> commonAnnotations =
        common(notices.stream().map(Notice::annotations).toList());
    return write(
        g -> {
          g.writeStartObject();
          g.writeStringField("version", "4");
          g.writeStringField("groupKey", "{}:{alertname=\"" + alertname + "\"}");
          g.writeNumberField("truncatedAlerts", 0);
          g.writeStringField("status", firing ? "firing" : "resolved");
          g.writeStringField("receiver", receiver);
          map(g, "groupLabels", Map.of("alertname", alertname));
          map(g, "commonLabels", commonLabels);
          map(g, "commonAnnotations", commonAnnotations);
          g.writeStringField("externalURL", externalUrl);
          g.writeArrayFieldStart("alerts");
          for (Notice n : notices) {
            g.writeStartObject();
            g.writeStringField("status", n.firing() ? "firing" : "resolved");
            map(g, "labels", n.labels());
            map(g, "annotations", n.annotations());
            g.writeStringField("startsAt", time(n.startsAt()));
            // Alertmanager's webhook shows a firing alert's end as the zero time
            g.writeStringField("endsAt", n.firing() ? "0001-01-01T00:00:00Z" : time(n.endsAt()));
            g.writeStringField("generatorURL", n.generatorUrl());
            g.writeStringField("fingerprint", n.fingerprint());
            g.writeEndObject();
          }
          g.writeEndArray();
          g.writeEndObject();
        });
  }

  private static Map<String, String> common(List<? extends Map<String, String>> maps) {
    Map<String, String> out = new TreeMap<>();
    if (maps.isEmpty()) {
      return out;
    }
    out.putAll(maps.get(0));
    for (Map<String, String> m : maps) {
      out.entrySet().removeIf(e -> !e.getValue().equals(m.get(e.getKey())));
    }
    return out;
  }

  /** RFC 3339 in UTC with milliseconds, as Alertmanager reads it. */
  static String time(Instant t) {
    return t.truncatedTo(ChronoUnit.MILLIS).toString();
  }

  private static void map(JsonGenerator g, String field, Map<String, String> m) throws IOException {
    g.writeObjectFieldStart(field);
    for (Map.Entry<String, String> e : new LinkedHashMap<>(m).entrySet()) {
      g.writeStringField(e.getKey(), e.getValue());
    }
    g.writeEndObject();
  }

  private interface Body {
    void write(JsonGenerator g) throws IOException;
  }

  private static byte[] write(Body body) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (JsonGenerator g = JSON.createGenerator(out)) {
      body.write(g);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
