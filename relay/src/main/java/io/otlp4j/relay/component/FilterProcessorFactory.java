package io.otlp4j.relay.component;

import io.netty.buffer.ByteBuf;
import io.otlp4j.relay.component.OttlCondition.Level;
import io.otlp4j.relay.config.ConfigNode;
import io.otlp4j.relay.config.ConfigReader;
import io.otlp4j.relay.config.ProcessorConfig;
import io.otlp4j.wire.EditPolicy;
import io.otlp4j.wire.EditedRequest;
import io.otlp4j.wire.ElementView;
import io.otlp4j.wire.RequestEditor;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.WalkSummary;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The {@code filter} processor: drops the resources, spans, span events, metrics, data points and
 * log records that an OTTL condition matches (the subset {@link OttlParser} reads), in the
 * Collector's {@code traces: span/spanevent/resource}, {@code metrics: metric/datapoint/resource}
 * and {@code logs: log_record/resource} shape and its newer {@code trace_conditions} / {@code
 * metric_conditions} / {@code log_conditions} (flat, the context taken from the path prefixes, or
 * {@code {context, conditions}}), plus the legacy {@code spans}, {@code logs} and {@code metrics}
 * {@code include} / {@code exclude}.
 *
 * <p>Conditions compile once, when the configuration is read; a request is edited where it lies
 * with {@link RequestEditor}: kept items are slices of it, and containers left empty are dropped.
 * When nothing is left, the result is {@link RelayProcessor#dropped}; the client is answered as if
 * the items were exported.
 */
final class FilterProcessorFactory
    implements ProcessorFactory<FilterProcessorFactory.FilterConfig> {
  static final List<String> ERROR_MODES = List.of("ignore", "silent", "propagate");
  private static final Map<String, String> LOG_KEYS =
      Map.of(
          "resource_attributes",
          "resources",
          "record_attributes",
          "attributes",
          "severity_texts",
          "log_severity_texts",
          "severity_number",
          "log_severity_number",
          "bodies",
          "log_bodies");
  private static final Map<String, String> METRIC_KEYS =
      Map.of("metric_names", "metric_names", "resource_attributes", "resources");
  private static final Map<String, Level> CONTEXTS =
      Map.of(
          "resource",
          Level.RESOURCE,
          "span",
          Level.SPAN,
          "spanevent",
          Level.SPANEVENT,
          "metric",
          Level.METRIC,
          "datapoint",
          Level.DATAPOINT,
          "log",
          Level.LOG);

  /** A signal's compiled conditions, by the level of element they drop. */
  record Conditions(
      Map<Level, OttlCondition[]> byLevel, MatchProperties include, MatchProperties exclude) {
    OttlCondition[] at(Level level) {
      return byLevel.getOrDefault(level, new OttlCondition[0]);
    }

    boolean isEmpty() {
      return byLevel.isEmpty() && include == null && exclude == null;
    }
  }

  /** The {@code filter} processor's configuration, compiled. Immutable. */
  record FilterConfig(
      String id, String errorMode, Map<Signal, Conditions> bySignal, Pattern[] patterns, int slots)
      implements ProcessorConfig {}

  @Override
  public String type() {
    return "filter";
  }

  @Override
  public FilterConfig read(String id, ConfigNode node, String where, ConfigReader in) {
    Map<String, ConfigNode> m = in.mapOrEmpty(node, where);
    if (m == null) {
      return null;
    }
    int errors = in.errorCount();
    in.checkKeys(
        m,
        where,
        List.of("profiles", "profile_conditions"),
        "error_mode",
        "traces",
        "metrics",
        "logs",
        "spans",
        "trace_conditions",
        "metric_conditions",
        "log_conditions");
    String errorMode = "propagate";
    if (m.get("error_mode") != null) {
      errorMode = in.string(m.get("error_mode"), where + ".error_mode");
      if (errorMode != null && !ERROR_MODES.contains(errorMode)) {
        in.error(
            m.get("error_mode").line(),
            where + ".error_mode",
            "'" + errorMode + "' is not one of " + String.join(", ", ERROR_MODES));
      }
    }
    MatchScratch.Patterns patterns = new MatchScratch.Patterns();
    Reader r = new Reader(in, patterns);
    Map<Signal, Conditions> bySignal = new EnumMap<>(Signal.class);
    // traces
    Map<Level, List<OttlCondition>> traces = new EnumMap<>(Level.class);
    MatchProperties spanInclude = null;
    MatchProperties spanExclude = null;
    Map<String, ConfigNode> t = section(m, "traces", where, in);
    if (t != null) {
      in.checkKeys(t, where + ".traces", "resource", "span", "spanevent");
      r.list(t.get("resource"), where + ".traces.resource", Level.RESOURCE, traces);
      r.list(t.get("span"), where + ".traces.span", Level.SPAN, traces);
      r.list(t.get("spanevent"), where + ".traces.spanevent", Level.SPANEVENT, traces);
    }
    Map<String, ConfigNode> spans = section(m, "spans", where, in);
    if (spans != null) {
      in.checkKeys(spans, where + ".spans", "include", "exclude");
      spanInclude =
          spans.get("include") == null
              ? null
              : MatchProperties.read(spans.get("include"), where + ".spans.include", in, patterns);
      spanExclude =
          spans.get("exclude") == null
              ? null
              : MatchProperties.read(spans.get("exclude"), where + ".spans.exclude", in, patterns);
    }
    r.newStyle(
        m.get("trace_conditions"),
        where + ".trace_conditions",
        traces,
        Level.RESOURCE,
        Level.SPAN,
        Level.SPANEVENT);
    bySignal.put(Signal.TRACES, conditions(traces, spanInclude, spanExclude));
    // metrics
    Map<Level, List<OttlCondition>> metrics = new EnumMap<>(Level.class);
    MatchProperties metricInclude = null;
    MatchProperties metricExclude = null;
    Map<String, ConfigNode> mm = section(m, "metrics", where, in);
    if (mm != null) {
      in.checkKeys(
          mm,
          where + ".metrics",
          "resource",
          "metric",
          "datapoint",
          "include",
          "exclude",
          "regexp");
      r.list(mm.get("resource"), where + ".metrics.resource", Level.RESOURCE, metrics);
      r.list(mm.get("metric"), where + ".metrics.metric", Level.METRIC, metrics);
      r.list(mm.get("datapoint"), where + ".metrics.datapoint", Level.DATAPOINT, metrics);
      metricInclude =
          legacy(mm.get("include"), where + ".metrics.include", in, patterns, METRIC_KEYS);
      metricExclude =
          legacy(mm.get("exclude"), where + ".metrics.exclude", in, patterns, METRIC_KEYS);
    }
    r.newStyle(
        m.get("metric_conditions"),
        where + ".metric_conditions",
        metrics,
        Level.RESOURCE,
        Level.METRIC,
        Level.DATAPOINT);
    bySignal.put(Signal.METRICS, conditions(metrics, metricInclude, metricExclude));
    // logs
    Map<Level, List<OttlCondition>> logs = new EnumMap<>(Level.class);
    MatchProperties logInclude = null;
    MatchProperties logExclude = null;
    Map<String, ConfigNode> lm = section(m, "logs", where, in);
    if (lm != null) {
      in.checkKeys(lm, where + ".logs", "resource", "log_record", "include", "exclude");
      r.list(lm.get("resource"), where + ".logs.resource", Level.RESOURCE, logs);
      r.list(lm.get("log_record"), where + ".logs.log_record", Level.LOG, logs);
      logInclude = legacy(lm.get("include"), where + ".logs.include", in, patterns, LOG_KEYS);
      logExclude = legacy(lm.get("exclude"), where + ".logs.exclude", in, patterns, LOG_KEYS);
    }
    r.newStyle(m.get("log_conditions"), where + ".log_conditions", logs, Level.RESOURCE, Level.LOG);
    bySignal.put(Signal.LOGS, conditions(logs, logInclude, logExclude));
    if (in.errorCount() != errors) {
      return null;
    }
    return new FilterConfig(id, errorMode, bySignal, patterns.toArray(), r.slots);
  }

  private static Map<String, ConfigNode> section(
      Map<String, ConfigNode> m, String key, String where, ConfigReader in) {
    ConfigNode n = m.get(key);
    return n == null || n.isNull() ? null : in.map(n, where + "." + key);
  }

  private static MatchProperties legacy(
      ConfigNode node,
      String where,
      ConfigReader in,
      MatchScratch.Patterns patterns,
      Map<String, String> names) {
    if (node == null || node.isNull()) {
      return null;
    }
    Map<String, ConfigNode> m = node.map();
    if (m != null && m.get("match_type") != null && "expr".equals(m.get("match_type").text())) {
      in.error(
          m.get("match_type").line(),
          where + ".match_type",
          "'expr' is not supported by otlp4j (strict, " + "regexp; or OTTL conditions)");
      return null;
    }
    if (m != null && m.get("expressions") != null) {
      in.error(m.get("expressions").line(), where + ".expressions", "is not supported by otlp4j");
      return null;
    }
    return MatchProperties.read(node, where, in, patterns, names);
  }

  private static Conditions conditions(
      Map<Level, List<OttlCondition>> byLevel, MatchProperties include, MatchProperties exclude) {
    Map<Level, OttlCondition[]> compiled = new EnumMap<>(Level.class);
    byLevel.forEach((level, list) -> compiled.put(level, list.toArray(new OttlCondition[0])));
    return new Conditions(compiled, include, exclude);
  }

  /** Compiles condition lists, each error with its line. */
  private static final class Reader {
    final ConfigReader in;
    final MatchScratch.Patterns patterns;
    int slots;

    Reader(ConfigReader in, MatchScratch.Patterns patterns) {
      this.in = in;
      this.patterns = patterns;
    }

    /** A list of conditions in {@code context} (the {@code traces: span: [...]} shape). */
    void list(ConfigNode node, String where, Level context, Map<Level, List<OttlCondition>> into) {
      if (node == null || node.isNull()) {
        return;
      }
      if (node.list() == null) {
        in.error(node.line(), where, "must be a list of OTTL conditions");
        return;
      }
      int i = 0;
      for (ConfigNode c : node.list()) {
        compile(c, where + "[" + i++ + "]", context, List.of(context), into);
      }
    }

    /**
     * {@code trace_conditions} and the like: strings (context from their prefixes) or {context,
     * conditions}.
     */
    void newStyle(
        ConfigNode node, String where, Map<Level, List<OttlCondition>> into, Level... allowed) {
      if (node == null || node.isNull()) {
        return;
      }
      if (node.list() == null) {
        in.error(
            node.line(), where, "must be a list of OTTL conditions or of {context, conditions}");
        return;
      }
      int i = 0;
      for (ConfigNode c : node.list()) {
        String w = where + "[" + i++ + "]";
        if (c.text() != null) {
          compile(c, w, null, List.of(allowed), into);
          continue;
        }
        Map<String, ConfigNode> m = in.map(c, w);
        if (m == null) {
          continue;
        }
        in.checkKeys(m, w, "context", "conditions", "error_mode");
        ConfigNode ctx = m.get("context");
        Level level =
            ctx == null || ctx.text() == null
                ? null
                : CONTEXTS.get(ctx.text().toLowerCase(Locale.ROOT));
        if (ctx != null
            && ctx.text() != null
            && !ctx.text().isEmpty()
            && (level == null || !List.of(allowed).contains(level))) {
          in.error(
              ctx.line(),
              w + ".context",
              "'"
                  + ctx.text()
                  + "' is not one of this signal's contexts ("
                  + String.join(
                      ", ",
                      List.of(allowed).stream()
                          .map(l -> l.name().toLowerCase(Locale.ROOT))
                          .toList())
                  + ")");
          continue;
        }
        ConfigNode mode = m.get("error_mode");
        if (mode != null && (mode.text() == null || !ERROR_MODES.contains(mode.text()))) {
          in.error(
              mode.line(), w + ".error_mode", "must be one of " + String.join(", ", ERROR_MODES));
        }
        ConfigNode conditions = m.get("conditions");
        if (conditions == null || conditions.list() == null) {
          in.error(c.line(), w + ".conditions", "must be a list of OTTL conditions");
          continue;
        }
        int j = 0;
        for (ConfigNode cond : conditions.list()) {
          compile(
              cond,
              w + ".conditions[" + j++ + "]",
              level,
              level == null ? List.of(allowed) : List.of(level),
              into);
        }
      }
    }

    private void compile(
        ConfigNode c,
        String where,
        Level context,
        List<Level> allowed,
        Map<Level, List<OttlCondition>> into) {
      String text = c.text();
      if (text == null) {
        in.error(c.line(), where, "must be an OTTL condition (a string)");
        return;
      }
      try {
        OttlCondition condition = OttlParser.parse(text, context, allowed, patterns);
        slots = Math.max(slots, condition.slots);
        into.computeIfAbsent(condition.context, l -> new ArrayList<>()).add(condition);
      } catch (IllegalArgumentException e) {
        in.error(c.line(), where, e.getMessage());
      }
    }
  }

  @Override
  public RelayProcessor create(FilterConfig config, ComponentContext context) {
    return new FilterProcessor(config, new ProcessorCounts(context.metrics(), config.id()));
  }

  /**
   * Drops what the conditions match through one {@link RequestEditor} pass per request; when
   * anything was dropped, the new bytes are walked for the summary passed on.
   */
  static final class FilterProcessor implements RelayProcessor {
    private static final RequestEditor EDITOR =
        RequestEditor.builder().validation(false).contiguousOutput(true).build();
    private final FilterConfig config;
    private final ProcessorCounts counts;

    FilterProcessor(FilterConfig config, ProcessorCounts counts) {
      this.config = config;
      this.counts = counts;
    }

    @Override
    public String id() {
      return config.id();
    }

    @Override
    public Result process(Signal signal, ByteBuf request, WalkSummary summary) {
      Conditions conditions = config.bySignal().get(signal);
      if (conditions == null || conditions.isEmpty()) {
        counts.count(signal, summary.itemCount(), summary.itemCount());
        return RelayProcessor.forward(request, summary);
      }
      EditedRequest edited;
      FilterPolicy policy = new FilterPolicy(signal, conditions, config);
      try {
        // edit leaves request to us and returns a buffer of its own (slices of request retained)
        edited = EDITOR.editCounted(signal, request, policy);
      } finally {
        request.release();
      }
      return counts.forwardEdited(signal, edited, summary, policy.dropped);
    }

    @Override
    public String toString() {
      return "filter[" + config.id() + "]";
    }
  }

  /** One request's pass. One thread. */
  private static final class FilterPolicy implements EditPolicy {
    private final Signal signal;
    private final Conditions c;
    private final OttlCondition[] resource;
    private final OttlCondition[] items;
    private final OttlCondition[] sub;
    private final OttlCondition.Eval eval;
    boolean dropped;

    FilterPolicy(Signal signal, Conditions conditions, FilterConfig config) {
      this.signal = signal;
      this.c = conditions;
      this.resource = conditions.at(Level.RESOURCE);
      switch (signal) {
        case TRACES -> {
          items = conditions.at(Level.SPAN);
          sub = conditions.at(Level.SPANEVENT);
        }
        case METRICS -> {
          items = conditions.at(Level.METRIC);
          sub = conditions.at(Level.DATAPOINT);
        }
        default -> {
          items = conditions.at(Level.LOG);
          sub = new OttlCondition[0];
        }
      }
      this.eval = new OttlCondition.Eval(config.slots(), new MatchScratch(config.patterns()));
    }

    @Override
    public boolean visits(ElementView.Kind kind) {
      return switch (kind) {
        case RESOURCE -> resource.length > 0;
        case SPAN, METRIC, LOG_RECORD ->
            items.length > 0 || c.include() != null || c.exclude() != null;
        case SPAN_EVENT -> signal == Signal.TRACES && sub.length > 0;
        case DATA_POINT -> signal == Signal.METRICS && sub.length > 0;
        default -> false;
      };
    }

    private Decision any(OttlCondition[] conditions, ElementView view) {
      for (OttlCondition condition : conditions) {
        if (condition.test(view, eval)) {
          dropped = true;
          return Decision.DROP;
        }
      }
      return Decision.KEEP;
    }

    private Decision legacy(boolean includeMisses, boolean excludeMatches) {
      if (includeMisses || excludeMatches) {
        dropped = true;
        return Decision.DROP;
      }
      return Decision.KEEP;
    }

    @Override
    public Decision resource(ElementView view) {
      return any(resource, view);
    }

    @Override
    public Decision span(ElementView span) {
      MatchScratch s = eval.matchers;
      if (legacy(
              c.include() != null && !c.include().matchesSpan(span, s),
              c.exclude() != null && c.exclude().matchesSpan(span, s))
          == Decision.DROP) {
        return Decision.DROP;
      }
      return any(items, span);
    }

    @Override
    public Decision spanEvent(ElementView event) {
      return any(sub, event);
    }

    @Override
    public Decision metric(ElementView metric) {
      MatchScratch s = eval.matchers;
      if (legacy(
              c.include() != null && !c.include().matchesMetric(metric, s),
              c.exclude() != null && c.exclude().matchesMetric(metric, s))
          == Decision.DROP) {
        return Decision.DROP;
      }
      return any(items, metric);
    }

    @Override
    public Decision dataPoint(ElementView point) {
      return any(sub, point);
    }

    @Override
    public Decision logRecord(ElementView record) {
      MatchScratch s = eval.matchers;
      if (legacy(
              c.include() != null && !c.include().matchesLogRecord(record, s),
              c.exclude() != null && c.exclude().matchesLogRecord(record, s))
          == Decision.DROP) {
        return Decision.DROP;
      }
      return any(items, record);
    }
  }
}
