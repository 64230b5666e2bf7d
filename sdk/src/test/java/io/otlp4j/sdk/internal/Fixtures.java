package io.otlp4j.sdk.internal;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.common.KeyValue;
import io.opentelemetry.api.common.Value;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.resources.Resource;
import java.util.Arrays;
import java.util.List;

/**
 * Hand-written values shared by the marshaling tests: the awkward strings, numbers and attributes.
 */
final class Fixtures {
  private Fixtures() {}

  static final String TRACE_ID = "0af7651916cd43dd8448eb211c80319c";
  static final String SPAN_ID = "b7ad6b7169203331";
  static final String PARENT_SPAN_ID = "00f067aa0ba902b7";

  /** ASCII, 2-, 3- and 4-byte UTF-8, and unpaired surrogates (the SDK writes those as '?'). */
  static final List<String> AWKWARD_STRINGS =
      Arrays.asList(
          "",
          "plain",
          "caf\u00e9 na\u00efve",
          "\u65e5\u672c\u8a9e\u30c6\u30ad\u30b9\u30c8",
          "emoji \uD83D\uDE00 and \uD83C\uDF89",
          "lone high \uD83D end",
          "lone low \uDE00 end",
          "\uDE00\uD83D reversed pair",
          "trailing high \uD83D",
          "\u0000 nul and \u007f del",
          "\uFFFF max bmp \uDBFF\uDFFF max supplementary");

  static final double[] AWKWARD_DOUBLES = {
    0.0,
    -0.0,
    1.5,
    -2.25,
    Double.NaN,
    Double.POSITIVE_INFINITY,
    Double.NEGATIVE_INFINITY,
    Double.MIN_VALUE,
    Double.MAX_VALUE,
    -Double.MAX_VALUE
  };

  static final long[] AWKWARD_LONGS = {
    0, 1, -1, 127, 128, Long.MIN_VALUE, Long.MAX_VALUE, Integer.MIN_VALUE
  };

  static SpanContext spanContext(boolean sampled, boolean remote, TraceState state) {
    TraceFlags flags = sampled ? TraceFlags.getSampled() : TraceFlags.getDefault();
    return remote
        ? SpanContext.createFromRemoteParent(TRACE_ID, SPAN_ID, flags, state)
        : SpanContext.create(TRACE_ID, SPAN_ID, flags, state);
  }

  static TraceState traceState() {
    return TraceState.builder().put("vendor", "value").put("other", "x1").build();
  }

  /** One attribute of every type, including empty arrays, an empty key and complex values. */
  static Attributes everyAttributeType() {
    AttributesBuilder b = Attributes.builder();
    b.put("string", "value");
    b.put("empty.string", "");
    b.put("bool.true", true);
    b.put("bool.false", false);
    b.put("long.zero", 0L);
    b.put("long.min", Long.MIN_VALUE);
    b.put("long.negative", -5L);
    b.put("double.zero", 0.0);
    b.put("double.nan", Double.NaN);
    b.put("double.inf", Double.POSITIVE_INFINITY);
    b.put(AttributeKey.stringArrayKey("strings"), Arrays.asList("a", "", "\uD83D\uDE00"));
    b.put(AttributeKey.booleanArrayKey("bools"), Arrays.asList(true, false));
    b.put(AttributeKey.longArrayKey("longs"), Arrays.asList(0L, -1L, Long.MAX_VALUE));
    b.put(AttributeKey.doubleArrayKey("doubles"), Arrays.asList(-0.0, Double.NaN, 1e300));
    b.put(AttributeKey.stringArrayKey("strings.empty"), Arrays.<String>asList());
    b.put(AttributeKey.longArrayKey("longs.empty"), Arrays.<Long>asList());
    b.put("", "empty key");
    b.put(AttributeKey.valueKey("complex"), complexValue());
    b.put(AttributeKey.valueKey("complex.bytes"), Value.of(new byte[] {0, 1, (byte) 0xff}));
    b.put(AttributeKey.valueKey("complex.empty"), Value.empty());
    return b.build();
  }

  /**
   * An AnyValue of every kind, nested: arrays of maps of arrays, bytes, empty string and empty
   * value.
   */
  static Value<?> complexValue() {
    return Value.of(
        KeyValue.of("s", Value.of("str")),
        KeyValue.of("b", Value.of(true)),
        KeyValue.of("l", Value.of(-7L)),
        KeyValue.of("d", Value.of(Double.NEGATIVE_INFINITY)),
        KeyValue.of("bytes", Value.of(new byte[0])),
        KeyValue.of("", Value.of("")),
        KeyValue.of("empty", Value.empty()),
        KeyValue.of(
            "array",
            Value.of(
                Value.of(1L),
                Value.of("two"),
                Value.of(Value.of(KeyValue.of("deep", Value.of(3.5)))),
                Value.of(new Value<?>[0]))),
        KeyValue.of("map", Value.of(KeyValue.of("inner", Value.of("\uD83D\uDE00")))));
  }

  static Resource resource(String serviceName) {
    return Resource.create(
        Attributes.of(
            AttributeKey.stringKey("service.name"), serviceName, AttributeKey.longKey("pid"), 42L),
        "https://opentelemetry.io/schemas/1.24.0");
  }

  static InstrumentationScopeInfo scope(String name) {
    return InstrumentationScopeInfo.builder(name)
        .setVersion("1.2.3")
        .setSchemaUrl("https://opentelemetry.io/schemas/1.21.0")
        .setAttributes(Attributes.of(AttributeKey.stringKey("scope.attr"), "x"))
        .build();
  }
}
