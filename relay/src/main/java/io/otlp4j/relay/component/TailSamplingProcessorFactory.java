package io.otlp4j.relay.component;

import io.otlp4j.relay.config.ConfigNode;
import io.otlp4j.relay.config.ConfigReader;
import io.otlp4j.relay.config.ProcessorConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The {@code tail_sampling} processor's factory: the Collector's keys and defaults ({@code
 * decision_wait} 30s, {@code num_traces} 50000, {@code expected_new_traces_per_sec}, {@code
 * decision_cache}, {@code sample_on_first_match}, {@code drop_pending_traces_on_shutdown}, {@code
 * block_on_overflow} (true here, false in the Collector), {@code policies}) and policy types
 * ({@code always_sample}, {@code latency}, {@code status_code}, {@code probabilistic}, {@code
 * string_attribute}, {@code numeric_attribute}, {@code boolean_attribute}, {@code rate_limiting},
 * {@code span_count}, {@code and}, {@code drop}); the Collector's other types are a configuration
 * error that names them. The processor: {@link TailSamplingProcessor}.
 */
final class TailSamplingProcessorFactory
    implements ProcessorFactory<TailSamplingProcessorFactory.TailSamplingConfig> {
  static final Duration DEFAULT_DECISION_WAIT = Duration.ofSeconds(30);
  static final int DEFAULT_NUM_TRACES = 50_000;

  /** Attribute and latency policies (sub-policies included) each take one bit of a trace. */
  static final int MAX_MATCH_POLICIES = 64;

  static final List<String> TYPES =
      List.of(
          "always_sample",
          "latency",
          "status_code",
          "probabilistic",
          "string_attribute",
          "numeric_attribute",
          "boolean_attribute",
          "rate_limiting",
          "span_count",
          "and",
          "drop");
  private static final List<String> UNSUPPORTED_TYPES =
      List.of("trace_state", "bytes_limiting", "ottl_condition", "composite", "trace_flags", "not");

  /** The configuration, compiled. Immutable (the rate limiters' counts aside). */
  record TailSamplingConfig(
      String id,
      Duration decisionWait,
      int numTraces,
      long expectedNewTracesPerSec,
      int sampledCacheSize,
      int nonSampledCacheSize,
      boolean sampleOnFirstMatch,
      boolean dropPendingTracesOnShutdown,
      boolean blockOnOverflow,
      List<TailSamplingPolicy> policies,
      List<String> policyLabels,
      List<TailSamplingPolicy.Attribute> attributes,
      List<TailSamplingPolicy.Latency> latencies)
      implements ProcessorConfig {}

  @Override
  public String type() {
    return "tail_sampling";
  }

  @Override
  public TailSamplingConfig read(String id, ConfigNode node, String where, ConfigReader in) {
    Map<String, ConfigNode> m = in.mapOrEmpty(node, where);
    if (m == null) {
      return null;
    }
    int errors = in.errorCount();
    in.checkKeys(
        m,
        where,
        List.of("decision_wait_after_root_received", "maximum_trace_size_bytes"),
        "decision_wait",
        "num_traces",
        "expected_new_traces_per_sec",
        "decision_cache",
        "policies",
        "sample_on_first_match",
        "drop_pending_traces_on_shutdown",
        "block_on_overflow");
    Duration wait =
        in.duration(m.get("decision_wait"), where + ".decision_wait", DEFAULT_DECISION_WAIT);
    if (wait != null && (wait.isNegative() || wait.isZero())) {
      in.error(m.get("decision_wait").line(), where + ".decision_wait", "must be positive");
    }
    int numTraces =
        (int) whole(m.get("num_traces"), where + ".num_traces", DEFAULT_NUM_TRACES, 1, in);
    long expected =
        whole(
            m.get("expected_new_traces_per_sec"), where + ".expected_new_traces_per_sec", 0, 0, in);
    int sampledCache = 0;
    int notSampledCache = 0;
    ConfigNode cacheNode = m.get("decision_cache");
    if (cacheNode != null && !cacheNode.isNull()) {
      Map<String, ConfigNode> c = in.map(cacheNode, where + ".decision_cache");
      if (c != null) {
        String w = where + ".decision_cache";
        in.checkKeys(c, w, "sampled_cache_size", "non_sampled_cache_size");
        sampledCache =
            (int) whole(c.get("sampled_cache_size"), w + ".sampled_cache_size", 0, 0, in);
        notSampledCache =
            (int) whole(c.get("non_sampled_cache_size"), w + ".non_sampled_cache_size", 0, 0, in);
      }
    }
    boolean firstMatch =
        in.bool(m.get("sample_on_first_match"), where + ".sample_on_first_match", false);
    boolean dropPending =
        in.bool(
            m.get("drop_pending_traces_on_shutdown"),
            where + ".drop_pending_traces_on_shutdown",
            false);
    // otlp4j's default differs from the Collector's (false): an acknowledgement is a promise
    boolean block = in.bool(m.get("block_on_overflow"), where + ".block_on_overflow", true);
    Policies p = new Policies(in);
    List<TailSamplingPolicy> drops = new ArrayList<>();
    List<TailSamplingPolicy> others = new ArrayList<>();
    List<String> dropLabels = new ArrayList<>();
    List<String> otherLabels = new ArrayList<>();
    ConfigNode list = m.get("policies");
    String name = id.contains("/") ? id.substring(id.indexOf('/') + 1) : "";
    if (list == null || list.isNull() || (list.list() != null && list.list().isEmpty())) {
      in.error(
          list == null ? node.line() : list.line(),
          where + ".policies",
          "at least one policy is required");
    } else if (list.list() == null) {
      in.error(list.line(), where + ".policies", "must be a list of policies");
    } else {
      Set<String> names = new HashSet<>();
      int i = 0;
      for (ConfigNode pn : list.list()) {
        String w = where + ".policies[" + i++ + "]";
        TailSamplingPolicy policy = p.policy(pn, w, true);
        if (policy == null) {
          continue;
        }
        if (policy.name.isEmpty()) {
          in.error(pn.line(), w + ".name", "policy name cannot be empty");
          continue;
        }
        if (!names.add(policy.name)) {
          in.error(pn.line(), w + ".name", "duplicate policy name '" + policy.name + "'");
          continue;
        }
        String label = name.isEmpty() ? policy.name : name + "." + policy.name;
        // drop policies first: a drop decision ends the evaluation, as in the Collector
        (policy.isDrop() ? drops : others).add(policy);
        (policy.isDrop() ? dropLabels : otherLabels).add(label);
      }
    }
    if (p.bits > MAX_MATCH_POLICIES) {
      in.error(
          list.line(),
          where + ".policies",
          "at most "
              + MAX_MATCH_POLICIES
              + " attribute and latency policies (sub-policies included), were "
              + p.bits);
    }
    if (in.errorCount() != errors) {
      return null;
    }
    drops.addAll(others);
    dropLabels.addAll(otherLabels);
    return new TailSamplingConfig(
        id,
        wait,
        numTraces,
        expected,
        sampledCache,
        notSampledCache,
        firstMatch,
        dropPending,
        block,
        List.copyOf(drops),
        List.copyOf(dropLabels),
        List.copyOf(p.attributes),
        List.copyOf(p.latencies));
  }

  /** A whole number, YAML's {@code 100_000} included. */
  private static long whole(
      ConfigNode n, String where, long defaultValue, long min, ConfigReader in) {
    if (n == null) {
      return defaultValue;
    }
    String t = String.valueOf(n.value()).trim().replace("_", "");
    try {
      long v = Long.parseLong(t);
      if (v < min) {
        in.error(n.line(), where, "must be at least " + min + ", was " + v);
        return defaultValue;
      }
      return v;
    } catch (NumberFormatException e) {
      in.error(n.line(), where, "must be a whole number, was '" + n.value() + "'");
      return defaultValue;
    }
  }

  /** Reads policies, giving attribute and latency leaves their bits. */
  private static final class Policies {
    final ConfigReader in;
    final List<TailSamplingPolicy.Attribute> attributes = new ArrayList<>();
    final List<TailSamplingPolicy.Latency> latencies = new ArrayList<>();
    int bits;

    Policies(ConfigReader in) {
      this.in = in;
    }

    private int bit() {
      return bits++ % MAX_MATCH_POLICIES;
    }

    TailSamplingPolicy policy(ConfigNode node, String where, boolean topLevel) {
      Map<String, ConfigNode> m = in.map(node, where);
      if (m == null) {
        return null;
      }
      List<String> known = new ArrayList<>(List.of("name", "type"));
      known.addAll(TYPES);
      known.remove("always_sample");
      known.addAll(UNSUPPORTED_TYPES);
      in.checkKeys(m, where, known.toArray(String[]::new));
      String name = m.get("name") == null ? "" : in.string(m.get("name"), where + ".name");
      ConfigNode typeNode = m.get("type");
      if (typeNode == null) {
        in.error(
            node.line(), where + ".type", "is required (one of " + String.join(", ", TYPES) + ")");
        return null;
      }
      String type = in.string(typeNode, where + ".type");
      if (type == null) {
        return null;
      }
      if (UNSUPPORTED_TYPES.contains(type)) {
        in.error(
            typeNode.line(),
            where + ".type",
            "policy type '"
                + type
                + "' is not supported by otlp4j (supported: "
                + String.join(", ", TYPES)
                + ")");
        return null;
      }
      if (!TYPES.contains(type)) {
        in.error(
            typeNode.line(),
            where + ".type",
            "unknown sampling policy type '"
                + type
                + "' (known: "
                + String.join(", ", TYPES)
                + ")");
        return null;
      }
      if (!topLevel && (type.equals("and") || type.equals("drop"))) {
        in.error(typeNode.line(), where + ".type", "'" + type + "' cannot be a sub-policy");
        return null;
      }
      String n = name == null ? "" : name;
      String w = where + "." + type;
      Map<String, ConfigNode> s = Map.of();
      if (!type.equals("always_sample") && m.get(type) != null && !m.get(type).isNull()) {
        s = in.map(m.get(type), w);
        if (s == null) {
          return null;
        }
      }
      switch (type) {
        case "always_sample" -> {
          return new TailSamplingPolicy.AlwaysSample(n);
        }
        case "latency" -> {
          in.checkKeys(s, w, "threshold_ms", "upper_threshold_ms");
          long threshold = whole(s.get("threshold_ms"), w + ".threshold_ms", 0, 0, in);
          long upper = whole(s.get("upper_threshold_ms"), w + ".upper_threshold_ms", 0, 0, in);
          if (upper != 0 && upper < threshold) {
            in.error(
                s.get("upper_threshold_ms").line(),
                w + ".upper_threshold_ms",
                "must be 0 (no upper bound) or at least threshold_ms (" + threshold + ")");
          }
          TailSamplingPolicy.Latency l = new TailSamplingPolicy.Latency(n, threshold, upper, bit());
          latencies.add(l);
          return l;
        }
        case "status_code" -> {
          in.checkKeys(s, w, "status_codes");
          ConfigNode codes = s.get("status_codes");
          if (codes == null || codes.list() == null || codes.list().isEmpty()) {
            in.error(
                codes == null ? node.line() : codes.line(),
                w + ".status_codes",
                "expected at least one status code to filter on");
            return null;
          }
          int mask = 0;
          for (ConfigNode c : codes.list()) {
            String code = c.text();
            switch (code == null ? "" : code) {
              case "UNSET" -> mask |= 1;
              case "OK" -> mask |= 2;
              case "ERROR" -> mask |= 4;
              default ->
                  in.error(
                      c.line(),
                      w + ".status_codes",
                      "unknown status code '" + code + "', supported: OK, ERROR, UNSET");
            }
          }
          return new TailSamplingPolicy.StatusCode(n, mask);
        }
        case "probabilistic" -> {
          in.checkKeys(s, w, "hash_salt", "sampling_percentage");
          String salt =
              s.get("hash_salt") == null ? "" : in.string(s.get("hash_salt"), w + ".hash_salt");
          double pct =
              in.number(
                  s.get("sampling_percentage"), w + ".sampling_percentage", 0, 0, Double.MAX_VALUE);
          return new TailSamplingPolicy.Probabilistic(n, salt, pct);
        }
        case "string_attribute" -> {
          in.checkKeys(
              s, w, "key", "values", "enabled_regex_matching", "cache_max_size", "invert_match");
          String key = key(s, w);
          List<String> values = new ArrayList<>();
          ConfigNode v = s.get("values");
          if (v != null && !v.isNull()) {
            if (v.list() == null) {
              in.error(v.line(), w + ".values", "must be a list of strings");
            } else {
              for (ConfigNode e : v.list()) {
                String t = in.string(e, w + ".values");
                if (t != null) {
                  values.add(t);
                }
              }
            }
          }
          boolean regex =
              in.bool(s.get("enabled_regex_matching"), w + ".enabled_regex_matching", false);
          whole(s.get("cache_max_size"), w + ".cache_max_size", 0, 0, in);
          boolean invert = in.bool(s.get("invert_match"), w + ".invert_match", false);
          TailSamplingMatcher matcher;
          if (regex) {
            List<Pattern> patterns = new ArrayList<>();
            for (String value : values) {
              try {
                patterns.add(GoRegex.compile(value).pattern());
              } catch (IllegalArgumentException e) {
                in.error(
                    v.line(),
                    w + ".values",
                    "'" + value + "' is not a regular expression: " + e.getMessage());
              }
            }
            matcher = TailSamplingMatcher.regex(key, patterns.toArray(Pattern[]::new));
          } else {
            matcher = TailSamplingMatcher.exact(key, values);
          }
          return attribute(n, type, matcher, invert);
        }
        case "numeric_attribute" -> {
          in.checkKeys(s, w, "key", "min_value", "max_value", "invert_match");
          String key = key(s, w);
          long min = whole(s.get("min_value"), w + ".min_value", 0, Long.MIN_VALUE, in);
          long max = whole(s.get("max_value"), w + ".max_value", 0, Long.MIN_VALUE, in);
          if (min == 0 && max == 0) {
            in.error(
                s.isEmpty() ? node.line() : m.get(type).line(),
                w,
                "at least one of min_value or max_value must be set (0 means unbounded)");
          }
          boolean invert = in.bool(s.get("invert_match"), w + ".invert_match", false);
          // As the Collector: 0 is no bound on that side.
          return attribute(
              n,
              type,
              TailSamplingMatcher.numeric(
                  key, min == 0 ? Long.MIN_VALUE : min, max == 0 ? Long.MAX_VALUE : max),
              invert);
        }
        case "boolean_attribute" -> {
          in.checkKeys(s, w, "key", "value", "invert_match");
          String key = key(s, w);
          boolean value = in.bool(s.get("value"), w + ".value", false);
          boolean invert = in.bool(s.get("invert_match"), w + ".invert_match", false);
          return attribute(n, type, TailSamplingMatcher.bool(key, value), invert);
        }
        case "rate_limiting" -> {
          in.checkKeys(s, w, "spans_per_second");
          long rate = whole(s.get("spans_per_second"), w + ".spans_per_second", 0, 0, in);
          return new TailSamplingPolicy.RateLimiting(n, rate);
        }
        case "span_count" -> {
          in.checkKeys(s, w, "min_spans", "max_spans");
          long min = whole(s.get("min_spans"), w + ".min_spans", 0, 0, in);
          long max = whole(s.get("max_spans"), w + ".max_spans", 0, 0, in);
          if (max != 0 && max < min) {
            in.error(
                s.get("max_spans").line(),
                w + ".max_spans",
                "must be 0 (no upper bound) or at least min_spans (" + min + ")");
          }
          return new TailSamplingPolicy.SpanCount(n, min, max);
        }
        default -> {
          boolean drop = type.equals("drop");
          String subKey = drop ? "drop_sub_policy" : "and_sub_policy";
          in.checkKeys(s, w, subKey);
          ConfigNode subs = s.get(subKey);
          if (subs == null || subs.list() == null || subs.list().isEmpty()) {
            in.error(
                subs == null ? node.line() : subs.line(),
                w + "." + subKey,
                "must be a list of at least one policy");
            return null;
          }
          List<TailSamplingPolicy> list = new ArrayList<>();
          int i = 0;
          for (ConfigNode sub : subs.list()) {
            TailSamplingPolicy p = policy(sub, w + "." + subKey + "[" + i++ + "]", false);
            if (p != null) {
              list.add(p);
            }
          }
          return new TailSamplingPolicy.AllOf(n, drop, list);
        }
      }
    }

    private String key(Map<String, ConfigNode> s, String w) {
      ConfigNode k = s.get("key");
      if (k == null) {
        return "";
      }
      String t = in.string(k, w + ".key");
      return t == null ? "" : t;
    }

    private TailSamplingPolicy attribute(
        String name, String type, TailSamplingMatcher matcher, boolean invert) {
      TailSamplingPolicy.Attribute a =
          new TailSamplingPolicy.Attribute(name, type, matcher, invert, bit());
      attributes.add(a);
      return a;
    }
  }

  @Override
  public RelayProcessor create(TailSamplingConfig config, ComponentContext context) {
    return new TailSamplingProcessor(config, context, System::nanoTime, true);
  }
}
