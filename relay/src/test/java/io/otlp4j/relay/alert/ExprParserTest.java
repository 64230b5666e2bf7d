package io.otlp4j.relay.alert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.otlp4j.relay.config.RelayConfig;
import io.otlp4j.relay.config.RelayConfigException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The expression subset: what parses, and what is refused with its place and the reason. */
class ExprParserTest {

  @ParameterizedTest
  @ValueSource(
      strings = {
        "up",
        "up{job=\"relay\"} == 1",
        "x{a=\"1\", b!=\"2\", c=~\"o.*\", d!~'p|q'} > 0",
        "rate(otelcol_exporter_send_failed_spans_total[5m]) > 0",
        "increase(x_total{exporter=~\"otlp.*\"}[1m30s]) >= 10",
        "sum by (exporter) (rate(a_total[5m])) / sum by (exporter) (rate(b_total[5m])) > 0.05",
        "sum(rate(a_total[5m])) without (transport) > 0",
        "max by (queue) (otlp4j_queue_oldest_record_age_seconds) > 300",
        "a / on (queue) b > 0.8",
        "a / ignoring (consumer) b > 0.8",
        "a > bool 0",
        "(a + b) * 2 - 1 / 4 % 3 ^ 2 > 1",
        "a unless b or c and d",
        "-a < -1",
        "{__name__=~\"otelcol_.*_total\"} > 0",
        "count(a) > 1 # a comment",
        "avg(a) > 1",
        "min(a) < 1"
      })
  void parsesTheSubset(String expr) {
    assertThat(ExprParser.parseAlertCondition(expr).type()).isEqualTo(Expr.Type.VECTOR);
  }

  @Test
  void precedenceIsPromQls() {
    Expr e = ExprParser.parse("a + b * c > 1 or d");
    assertThat(e).isInstanceOf(Expr.Binary.class);
    Expr.Binary or = (Expr.Binary) e;
    assertThat(or.op()).isEqualTo(Expr.BinaryOp.OR);
    Expr.Binary gt = (Expr.Binary) or.left();
    assertThat(gt.op()).isEqualTo(Expr.BinaryOp.GTR);
    Expr.Binary plus = (Expr.Binary) gt.left();
    assertThat(plus.op()).isEqualTo(Expr.BinaryOp.ADD);
    assertThat(((Expr.Binary) plus.right()).op()).isEqualTo(Expr.BinaryOp.MUL);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          rate(x[5m]) offset 5m > 0              | 13 | offset and @ modifiers are not supported
          topk(3, x)                             | 1  | the function topk() is not supported
          histogram_quantile(0.99, rate(x[5m]))  | 1  | the function histogram_quantile() is not supported
          rate(x[5m:1m]) > 0                     | 10 | subqueries
          a / on (q) group_left b                | 12 | group_left/group_right
          1 > 2                                  | 3  | a comparison between two numbers needs bool
          rate(x) > 0                            | 1  | rate() needs a range selector
          x[5m]                                  | 1  | must give an instant vector
          1 + 1                                  | 1  | must give an instant vector
          x[5m] > 0                              | 7  | a range vector can only be the argument
          a and 1                                | 3  | 'and' needs a vector on both sides
          a + on (x) 1                           | 5  | on/ignoring only applies between two vectors
          x{a="1"                                | 8  | ',' or '}' was expected
          x{a~"1"}                               | 4  | a matcher (=, !=, =~, !~) was expected
          {a=""}                                 | 1  | a selector needs a metric name
          sum(x,y)                               | 6  | aggregations with a parameter
          rate(x[5q]) > 0                        | 8  | '5q' is not a range
          x > 5m                                 | 5  | a duration (5m) is only allowed inside [...]
          x{a=~"("} > 0                          | 6  | not a valid regular expression
          x > > 1                                | 5  | unexpected '>'
          """)
  void refusesWhatIsNotInTheSubsetSayingWhereAndWhy(String expr, int position, String message) {
    assertThatThrownBy(() -> ExprParser.parseAlertCondition(expr))
        .isInstanceOf(ExprException.class)
        .hasMessageContaining(message)
        .satisfies(e -> assertThat(((ExprException) e).position()).isEqualTo(position));
  }

  @Test
  void aRuleOutsideTheSubsetIsAConfigErrorNamingItsLineAndTheSubset() {
    String yaml =
        """
        receivers:
          otlp: { protocols: { grpc: { endpoint: "127.0.0.1:0" } } }
        exporters:
          debug:
        service:
          telemetry:
            alerts:
              rules:
                - alert: Fine
                  expr: rate(x_total[5m]) > 0
                - alert: Quantile
                  expr: histogram_quantile(0.99, rate(x_bucket[5m])) > 1
                - record: job:x:rate5m
                  expr: rate(x_total[5m])
                - alert: BadTemplate
                  expr: x > 0
                  annotations: { summary: "{{ $value | printf \\"%.2f\\" }}" }
          pipelines:
            traces: { receivers: [otlp], exporters: [debug] }
        """;
    assertThatThrownBy(() -> RelayConfig.parse(yaml, n -> null, Path.of(".")))
        .isInstanceOf(RelayConfigException.class)
        .satisfies(
            e -> {
              var errors = ((RelayConfigException) e).errors();
              assertThat(errors).hasSize(3);
              assertThat(errors.get(0))
                  .startsWith("line 12: service.telemetry.alerts.rules[1].expr: at character 1: ")
                  .contains("the function histogram_quantile() is not supported")
                  .contains("supported: " + ExprParser.SUBSET);
              assertThat(errors.get(1))
                  .startsWith("line 13: service.telemetry.alerts.rules[2].record:")
                  .contains("recording rules are not supported");
              assertThat(errors.get(2))
                  .startsWith("line 17: service.telemetry.alerts.rules[3].annotations.summary:")
                  .contains("is not supported");
            });
  }

  @Test
  void everyDefaultRuleParsesAndCarriesSeverityAndSummary() {
    assertThat(DefaultRules.rules()).hasSize(17);
    for (AlertRule r : DefaultRules.rules()) {
      assertThat(r.labels()).containsKey("severity");
      assertThat(r.annotations()).containsKeys("summary", "description");
      assertThat(r.holdDuration()).isPositive();
      assertThat(ExprParser.parseAlertCondition(r.exprText())).isEqualTo(r.expr());
    }
    assertThat(
            Map.of(
                "ReceiverRefusedSpans", "2m",
                "ExporterSendFailedLogRecords", "2m",
                "ProcessorDroppedMetricPoints", "2m",
                "ExporterEnqueueFailedSpans", "1m",
                "ExporterQueueNearlyFull", "1m",
                "ExporterCircuitOpen", "1m",
                "DurableQueueStale", "1m",
                "MemoryBudgetNearlyExhausted", "1m"))
        .allSatisfy(
            (name, hold) ->
                assertThat(
                        RulesFile.duration(
                            DefaultRules.rules().stream()
                                .filter(r -> r.name().equals(name))
                                .findFirst()
                                .orElseThrow()
                                .holdDuration()))
                    .isEqualTo(hold));
  }
}
