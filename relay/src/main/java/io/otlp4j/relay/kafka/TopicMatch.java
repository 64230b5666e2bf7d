package io.otlp4j.relay.kafka;

import io.otlp4j.relay.config.KafkaReceiverConfig;
import java.util.regex.Pattern;

/**
 * Which topics a signal reads: its names, or, when they start with {@code ^}, the topics matching
 * one of its patterns (whole name) and none of its {@code exclude_topics} (anywhere in the name, as
 * Go's {@code regexp.MatchString}). Stateless.
 */
final class TopicMatch {
  private TopicMatch() {}

  static boolean matches(KafkaReceiverConfig.Topics t, String topic) {
    if (!t.regex()) {
      return t.topics().contains(topic);
    }
    return Pattern.compile(pattern(t)).matcher(topic).matches();
  }

  /** One pattern for the signal's topics, for {@code KafkaConsumer.subscribe(Pattern)}. */
  static String pattern(KafkaReceiverConfig.Topics t) {
    StringBuilder b = new StringBuilder("(?:");
    if (t.regex()) {
      for (String ex : t.exclude()) {
        b.append("(?!.*(?:").append(ex).append("))");
      }
      b.append("(?:");
      b.append(String.join("|", t.topics().stream().map(p -> "(?:" + p + ")").toList()));
      b.append(')');
    } else {
      b.append(String.join("|", t.topics().stream().map(Pattern::quote).toList()));
    }
    return b.append(')').toString();
  }
}
