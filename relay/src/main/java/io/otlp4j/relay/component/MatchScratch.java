package io.otlp4j.relay.component;

import io.otlp4j.wire.ValueView;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What one edit needs to match items without allocating per item: a {@link Matcher} per pattern of
 * the processor's configuration, made on first use and reset for each text after that, and spare
 * value views. One per edit, used by one thread.
 */
final class MatchScratch {
  private final Pattern[] patterns;
  private final Matcher[] matchers;
  final ValueView value = new ValueView();
  final ValueView other = new ValueView();

  MatchScratch(Pattern[] patterns) {
    this.patterns = patterns;
    this.matchers = new Matcher[patterns.length];
  }

  /** The matcher of pattern {@code id}, reset to {@code text}. */
  Matcher matcher(int id, CharSequence text) {
    Matcher m = matchers[id];
    if (m == null) {
      m = patterns[id].matcher(text);
      matchers[id] = m;
      return m;
    }
    return m.reset(text);
  }

  /** Whether pattern {@code id} occurs in {@code text} (Go's {@code MatchString}: unanchored). */
  boolean find(int id, CharSequence text) {
    return matcher(id, text).find();
  }

  /**
   * Collects a configuration's patterns, each given the id the scratch knows it by. Not
   * thread-safe.
   */
  static final class Patterns {
    private final List<Pattern> list = new ArrayList<>();

    int add(Pattern p) {
      list.add(p);
      return list.size() - 1;
    }

    Pattern[] toArray() {
      return list.toArray(new Pattern[0]);
    }
  }
}
