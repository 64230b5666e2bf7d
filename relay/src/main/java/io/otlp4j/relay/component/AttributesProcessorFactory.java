package io.otlp4j.relay.component;

import io.netty.buffer.ByteBuf;
import io.otlp4j.relay.config.ConfigNode;
import io.otlp4j.relay.config.ConfigReader;
import io.otlp4j.relay.config.ProcessorConfig;
import io.otlp4j.wire.EditPolicy;
import io.otlp4j.wire.ElementView;
import io.otlp4j.wire.RequestEditor;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.WalkSummary;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The {@code attributes} processor, with the Collector's keys and semantics: {@code actions}
 * applied in order to the attributes of every span, log record and metric data point that {@code
 * include} matches and {@code exclude} does not (for metrics both look at the data point's metric:
 * {@code metric_names} and {@code resources}). As in the Collector, span events, links, resources
 * and scopes are left alone.
 *
 * <p>The request is edited where it lies with {@link RequestEditor}: a changed item's attribute
 * list is re-encoded, everything else is passed on as slices of the request; an item no action
 * changes costs a look at its attributes and no allocation.
 */
final class AttributesProcessorFactory
    implements ProcessorFactory<AttributesProcessorFactory.AttributesConfig> {

  /** The {@code attributes} processor's configuration, compiled. Immutable. */
  record AttributesConfig(
      String id,
      AttributeActions actions,
      MatchProperties include,
      MatchProperties exclude,
      Pattern[] patterns)
      implements ProcessorConfig {}

  @Override
  public String type() {
    return "attributes";
  }

  @Override
  public AttributesConfig read(String id, ConfigNode node, String where, ConfigReader in) {
    Map<String, ConfigNode> m = in.mapOrEmpty(node, where);
    if (m == null) {
      return null;
    }
    in.checkKeys(m, where, "actions", "include", "exclude");
    MatchScratch.Patterns patterns = new MatchScratch.Patterns();
    ConfigNode actions = m.get("actions");
    if (actions == null) {
      in.error(node.line(), where + ".actions", "missing required field \"actions\"");
      return null;
    }
    AttributeActions compiled = AttributeActions.read(actions, where + ".actions", in, patterns);
    MatchProperties include =
        m.get("include") == null
            ? null
            : MatchProperties.read(m.get("include"), where + ".include", in, patterns);
    MatchProperties exclude =
        m.get("exclude") == null
            ? null
            : MatchProperties.read(m.get("exclude"), where + ".exclude", in, patterns);
    return compiled == null
        ? null
        : new AttributesConfig(id, compiled, include, exclude, patterns.toArray());
  }

  @Override
  public RelayProcessor create(AttributesConfig config, ComponentContext context) {
    return new AttributesProcessor(config, new ProcessorCounts(context.metrics(), config.id()));
  }

  /**
   * Applies the actions through one {@link RequestEditor} pass per request. The receiver walked the
   * request already, so the editor does not validate it again; the item counts do not change, so
   * the summary is passed on.
   */
  static final class AttributesProcessor implements RelayProcessor {
    private static final RequestEditor EDITOR = RequestEditor.builder().validation(false).build();
    private final AttributesConfig config;
    private final ProcessorCounts counts;

    AttributesProcessor(AttributesConfig config, ProcessorCounts counts) {
      this.config = config;
      this.counts = counts;
    }

    @Override
    public String id() {
      return config.id();
    }

    @Override
    public Result process(Signal signal, ByteBuf request, WalkSummary summary) {
      try {
        // edit leaves request to us and returns a buffer of its own (slices of request retained)
        ByteBuf edited = EDITOR.edit(signal, request, new Policy(signal, config));
        counts.count(signal, summary.itemCount(), summary.itemCount());
        return RelayProcessor.forward(edited, summary);
      } finally {
        request.release();
      }
    }

    @Override
    public String toString() {
      return "attributes[" + config.id() + "]";
    }
  }

  /**
   * One request's pass: the actions on every item the include/exclude sections select. One thread.
   */
  private static final class Policy implements EditPolicy {
    private final Signal signal;
    private final AttributeActions actions;
    private final MatchProperties include;
    private final MatchProperties exclude;
    private final MatchScratch scratch;

    /** For metrics: whether the data points of the metric being visited are skipped. */
    private boolean metricSkipped;

    Policy(Signal signal, AttributesConfig config) {
      this.signal = signal;
      this.actions = config.actions();
      this.include = config.include();
      this.exclude = config.exclude();
      this.scratch = new MatchScratch(config.patterns());
    }

    @Override
    public boolean visits(ElementView.Kind kind) {
      return switch (signal) {
        case TRACES -> kind == ElementView.Kind.SPAN;
        case LOGS -> kind == ElementView.Kind.LOG_RECORD;
        default -> kind == ElementView.Kind.METRIC || kind == ElementView.Kind.DATA_POINT;
      };
    }

    @Override
    public Decision span(ElementView span) {
      if ((include == null || include.matchesSpan(span, scratch))
          && (exclude == null || !exclude.matchesSpan(span, scratch))) {
        actions.apply(span.attributes(), scratch);
      }
      return Decision.KEEP;
    }

    @Override
    public Decision logRecord(ElementView record) {
      if ((include == null || include.matchesLogRecord(record, scratch))
          && (exclude == null || !exclude.matchesLogRecord(record, scratch))) {
        actions.apply(record.attributes(), scratch);
      }
      return Decision.KEEP;
    }

    @Override
    public Decision metric(ElementView metric) {
      metricSkipped =
          (include != null && !include.matchesMetric(metric, scratch))
              || (exclude != null && exclude.matchesMetric(metric, scratch));
      return Decision.KEEP;
    }

    @Override
    public Decision dataPoint(ElementView point) {
      if (!metricSkipped) {
        actions.apply(point.attributes(), scratch);
      }
      return Decision.KEEP;
    }
  }
}
