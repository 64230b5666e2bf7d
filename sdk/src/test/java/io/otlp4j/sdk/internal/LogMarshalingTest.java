package io.otlp4j.sdk.internal;

import static io.otlp4j.sdk.internal.SdkReference.assertLogsMatch;
import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.Value;
import io.opentelemetry.api.logs.Logger;
import io.opentelemetry.api.logs.Severity;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.context.Scope;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.logs.LogLimits;
import io.opentelemetry.sdk.logs.SdkLoggerProvider;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.opentelemetry.sdk.logs.export.SimpleLogRecordProcessor;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.testing.exporter.InMemoryLogRecordExporter;
import io.opentelemetry.sdk.testing.logs.TestLogRecordData;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class LogMarshalingTest {
  private static final Resource RESOURCE = Fixtures.resource("logs");
  private static final InstrumentationScopeInfo SCOPE = Fixtures.scope("logger");

  static TestLogRecordData.Builder log() {
    return TestLogRecordData.builder()
        .setResource(RESOURCE)
        .setInstrumentationScopeInfo(SCOPE)
        .setTimestamp(1_700_000_000_000_000_001L, TimeUnit.NANOSECONDS)
        .setObservedTimestamp(1_700_000_000_000_000_002L, TimeUnit.NANOSECONDS)
        .setSeverity(Severity.INFO)
        .setSeverityText("INFO")
        .setBody("hello")
        .setAttributes(Attributes.of(AttributeKey.stringKey("k"), "v"))
        .setTotalAttributeCount(1);
  }

  @Test
  void emptyBatchIsAnEmptyRequest() {
    assertThat(SdkReference.oursLogs(Collections.emptyList())).isEmpty();
  }

  @ParameterizedTest
  @EnumSource(Severity.class)
  void everySeverityMatches(Severity severity) {
    assertLogsMatch(List.of(log().setSeverity(severity).setSeverityText(severity.name()).build()));
  }

  @Test
  void bodiesOfEveryKindMatch() {
    List<Value<?>> bodies =
        List.of(
            Value.of("text"),
            Value.of(""),
            Value.of(true),
            Value.of(false),
            Value.of(0L),
            Value.of(Long.MIN_VALUE),
            Value.of(Double.NaN),
            Value.of(-0.0),
            Value.of(new byte[] {1, 2, 3}),
            Value.of(new byte[0]),
            Value.of(Value.of("a"), Value.of(2L)),
            Value.of(new Value<?>[0]),
            Fixtures.complexValue(),
            Value.empty());
    List<LogRecordData> logs = new ArrayList<>();
    for (Value<?> body : bodies) {
      logs.add(log().setBodyValue(body).build());
    }
    logs.add(log().setBodyValue(null).build());
    ExportLogsServiceRequest parsed = assertLogsMatch(logs);
    List<io.opentelemetry.proto.logs.v1.LogRecord> records =
        parsed.getResourceLogs(0).getScopeLogs(0).getLogRecordsList();
    assertThat(records.get(1).getBody().getValueCase()).isEqualTo(AnyValue.ValueCase.STRING_VALUE);
    assertThat(records.get(records.size() - 1).hasBody()).isFalse();
  }

  @Test
  void traceContextFlagsEventNameAndMissingFieldsMatch() {
    SpanContext sampled = Fixtures.spanContext(true, false, TraceState.getDefault());
    SpanContext notSampled = Fixtures.spanContext(false, true, Fixtures.traceState());
    assertLogsMatch(
        List.of(
            log().setSpanContext(sampled).setEventName("app.event").build(),
            log().setSpanContext(notSampled).setEventName("").build(),
            TestLogRecordData.builder()
                .setResource(Resource.empty())
                .setInstrumentationScopeInfo(InstrumentationScopeInfo.empty())
                .setTimestamp(Instant.EPOCH)
                .setObservedTimestamp(Instant.EPOCH)
                .setSeverity(Severity.UNDEFINED_SEVERITY_NUMBER)
                .build(),
            log()
                .setAttributes(Fixtures.everyAttributeType())
                .setTotalAttributeCount(100)
                .build()));
  }

  @Test
  void awkwardUnicodeAndHugeBodiesMatch() {
    List<LogRecordData> logs = new ArrayList<>();
    for (String s : Fixtures.AWKWARD_STRINGS) {
      logs.add(
          log()
              .setBody(s)
              .setSeverityText(s)
              .setEventName(s)
              .setAttributes(Attributes.of(AttributeKey.stringKey(s), s))
              .build());
    }
    logs.add(log().setBody("\uD83D\uDE00".repeat(1 << 19)).build());
    assertLogsMatch(logs);
  }

  @Test
  @SuppressWarnings("try") // the scope only makes a span current
  void logsFromARealLoggerProviderMatch() {
    InMemoryLogRecordExporter exporter = InMemoryLogRecordExporter.create();
    SdkLoggerProvider provider =
        SdkLoggerProvider.builder()
            .setResource(Resource.getDefault().merge(RESOURCE))
            .setLogLimits(
                () ->
                    LogLimits.builder()
                        .setMaxNumberOfAttributes(3)
                        .setMaxAttributeValueLength(5)
                        .build())
            .addLogRecordProcessor(SimpleLogRecordProcessor.create(exporter))
            .build();
    try {
      Logger logger = provider.get("io.otlp4j.test");
      Logger other =
          provider
              .loggerBuilder("other")
              .setInstrumentationVersion("3")
              .setSchemaUrl("https://example.com/s")
              .build();
      try (Scope ignored =
          Span.wrap(Fixtures.spanContext(true, false, TraceState.getDefault())).makeCurrent()) {
        for (int i = 0; i < 6; i++) {
          (i % 2 == 0 ? logger : other)
              .logRecordBuilder()
              .setSeverity(Severity.values()[i * 4])
              .setSeverityText("sev" + i)
              .setBody(i == 3 ? Value.of(Value.of(1L), Value.of("x")) : Value.of("message " + i))
              .setAttribute(AttributeKey.stringKey("long.value"), "truncated-value")
              .setAttribute(AttributeKey.longKey("i"), (long) i)
              .setAttribute(AttributeKey.longKey("j"), (long) i)
              .setAttribute(AttributeKey.longKey("k"), (long) i)
              .setEventName(i == 5 ? "evt" : null)
              .setTimestamp(Instant.ofEpochSecond(1_700_000_000L, i))
              .emit();
        }
      }
      logger.logRecordBuilder().setBody("outside any span").emit();
      List<LogRecordData> finished = exporter.getFinishedLogRecordItems();
      assertThat(finished).hasSize(7);
      assertLogsMatch(finished);
    } finally {
      provider.close();
    }
  }
}
