package io.otlp4j.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.otlp4j.wire.testing.OtlpGenerator;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ResourceRewriteTest {
  private static final ResourceRewrite REWRITE =
      ResourceRewrite.builder()
          .upsert("service.name", "renamed")
          .upsert("deployment.environment", "prod")
          .upsert("sampled", true)
          .upsert("shard", 7L)
          .upsert("weight", 0.25)
          .delete("host.name")
          .delete("http.request.method")
          .build();

  /** The same rewrite without the validating walk first, as for already-walked input. */
  private static final ResourceRewrite UNCHECKED =
      ResourceRewrite.builder()
          .upsert("service.name", "renamed")
          .upsert("deployment.environment", "prod")
          .upsert("sampled", true)
          .upsert("shard", 7L)
          .upsert("weight", 0.25)
          .delete("host.name")
          .delete("http.request.method")
          .validation(false)
          .build();

  /** The same operations, as they are applied with the official builders. */
  private static final Map<String, AnyValue> UPSERTS = new LinkedHashMap<>();

  private static final List<String> DELETES = List.of("host.name", "http.request.method");

  static {
    UPSERTS.put("service.name", AnyValue.newBuilder().setStringValue("renamed").build());
    UPSERTS.put("deployment.environment", AnyValue.newBuilder().setStringValue("prod").build());
    UPSERTS.put("sampled", AnyValue.newBuilder().setBoolValue(true).build());
    UPSERTS.put("shard", AnyValue.newBuilder().setIntValue(7).build());
    UPSERTS.put("weight", AnyValue.newBuilder().setDoubleValue(0.25).build());
  }

  @ParameterizedTest
  @EnumSource(Signal.class)
  void rewriteEqualsTheSameChangeMadeWithTheOfficialBuilders(Signal signal) throws Exception {
    OtlpGenerator generator = new OtlpGenerator(signal.ordinal() * 13L + 3).withUnknownFields(true);
    for (int i = 0; i < 500; i++) {
      Message request = generator.request(signal);
      byte[] bytes = request.toByteArray();
      ByteBuf input =
          (i & 1) == 0
              ? Unpooled.wrappedBuffer(bytes)
              : PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
      ByteBuf rewritten = (i % 3 == 0 ? UNCHECKED : REWRITE).apply(signal, input);
      try {
        Message parsed = OfficialView.parse(signal, ByteBufUtil.getBytes(rewritten));
        assertThat(parsed).isEqualTo(expected(request));
        assertThat(input.readerIndex()).isZero();
      } finally {
        rewritten.release();
        input.release();
      }
    }
  }

  private static Message expected(Message request) {
    Message.Builder out = request.toBuilder();
    FieldDescriptor entries = request.getDescriptorForType().findFieldByNumber(1);
    for (int i = 0; i < out.getRepeatedFieldCount(entries); i++) {
      Message entry = (Message) out.getRepeatedField(entries, i);
      FieldDescriptor resourceField = entry.getDescriptorForType().findFieldByNumber(1);
      if (!entry.hasField(resourceField) && UPSERTS.isEmpty()) {
        continue;
      }
      Resource resource = (Resource) entry.getField(resourceField);
      out.setRepeatedField(
          entries, i, entry.toBuilder().setField(resourceField, rewrite(resource)).build());
    }
    return out.build();
  }

  static Resource rewrite(Resource resource) {
    List<KeyValue> attributes = new ArrayList<>();
    List<String> done = new ArrayList<>();
    for (KeyValue kv : resource.getAttributesList()) {
      if (DELETES.contains(kv.getKey())) {
        continue;
      }
      AnyValue upsert = UPSERTS.get(kv.getKey());
      if (upsert == null) {
        attributes.add(kv);
      } else if (!done.contains(kv.getKey())) {
        attributes.add(kv.toBuilder().setValue(upsert).build());
        done.add(kv.getKey());
      }
    }
    UPSERTS.forEach(
        (key, value) -> {
          if (!done.contains(key)) {
            attributes.add(KeyValue.newBuilder().setKey(key).setValue(value).build());
          }
        });
    return resource.toBuilder().clearAttributes().addAllAttributes(attributes).build();
  }

  /**
   * Insert, update, upsert and delete together, as the Collector's resource processor applies them.
   */
  private static final ResourceRewrite ALL_ACTIONS =
      ResourceRewrite.builder()
          .insert("service.name", "inserted")
          .insert("deployment.environment", "staging")
          .update("url.path", "/redacted")
          .update("user.id", 42L)
          .update("absent.everywhere", true)
          .upsert("db.system", 0.5)
          .delete("thread.name")
          .build();

  @ParameterizedTest
  @EnumSource(Signal.class)
  void insertAndUpdateEqualTheCollectorSemanticsAppliedWithTheOfficialBuilders(Signal signal)
      throws Exception {
    OtlpGenerator generator = new OtlpGenerator(signal.ordinal() * 31L + 7).withUnknownFields(true);
    for (int i = 0; i < 100; i++) {
      Message request = generator.request(signal);
      byte[] bytes = request.toByteArray();
      ByteBuf input =
          (i & 1) == 0
              ? Unpooled.wrappedBuffer(bytes)
              : PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
      ByteBuf rewritten = ALL_ACTIONS.apply(signal, input);
      try {
        Message parsed = OfficialView.parse(signal, ByteBufUtil.getBytes(rewritten));
        assertThat(parsed).isEqualTo(expectedForAllActions(request));
      } finally {
        rewritten.release();
        input.release();
      }
    }
  }

  private static Message expectedForAllActions(Message request) {
    Message.Builder out = request.toBuilder();
    FieldDescriptor entries = request.getDescriptorForType().findFieldByNumber(1);
    for (int i = 0; i < out.getRepeatedFieldCount(entries); i++) {
      Message entry = (Message) out.getRepeatedField(entries, i);
      FieldDescriptor resourceField = entry.getDescriptorForType().findFieldByNumber(1);
      Resource resource = (Resource) entry.getField(resourceField);
      Map<String, AnyValue> changes = new LinkedHashMap<>();
      changes.put("url.path", AnyValue.newBuilder().setStringValue("/redacted").build());
      changes.put("user.id", AnyValue.newBuilder().setIntValue(42).build());
      changes.put("absent.everywhere", AnyValue.newBuilder().setBoolValue(true).build());
      changes.put("db.system", AnyValue.newBuilder().setDoubleValue(0.5).build());
      List<KeyValue> attributes = new ArrayList<>();
      List<String> seen = new ArrayList<>();
      for (KeyValue kv : resource.getAttributesList()) {
        String key = kv.getKey();
        boolean firstOfKey = !seen.contains(key);
        seen.add(key);
        if (key.equals("thread.name")) {
          continue; // delete
        }
        AnyValue change = changes.get(key);
        if (change == null) {
          attributes.add(kv); // untouched, or an insert's key that is present: every copy kept
        } else if (firstOfKey) {
          attributes.add(kv.toBuilder().setValue(change).build()); // update/upsert in place
        } // later copies of an updated key are dropped
      }
      Map<String, AnyValue> appended = new LinkedHashMap<>();
      appended.put("service.name", AnyValue.newBuilder().setStringValue("inserted").build());
      appended.put(
          "deployment.environment", AnyValue.newBuilder().setStringValue("staging").build());
      appended.put("db.system", AnyValue.newBuilder().setDoubleValue(0.5).build());
      // The builder's key order: insert service.name, insert deployment.environment, ..., upsert
      // db.system.
      appended.forEach(
          (key, value) -> {
            if (!seen.contains(key)) {
              attributes.add(KeyValue.newBuilder().setKey(key).setValue(value).build());
            }
          });
      Resource rewritten =
          resource.toBuilder().clearAttributes().addAllAttributes(attributes).build();
      out.setRepeatedField(
          entries, i, entry.toBuilder().setField(resourceField, rewritten).build());
    }
    return out.build();
  }

  /**
   * Values copied from other attributes (the Collector's from_attribute), mixed with a plain
   * delete.
   */
  private static final ResourceRewrite FROM_ATTRIBUTE =
      ResourceRewrite.builder()
          .insertFromAttribute("copied.service", "service.name")
          .updateFromAttribute("url.path", "user.id")
          .upsertFromAttribute("db.system", "k8s.pod.name")
          .insertFromAttribute("service.name", "thread.name")
          .delete("thread.name")
          .build();

  @ParameterizedTest
  @EnumSource(Signal.class)
  void fromAttributeCopiesTheSourceValueAsTheOfficialBuildersWould(Signal signal) throws Exception {
    OtlpGenerator generator =
        new OtlpGenerator(signal.ordinal() * 17L + 11).withUnknownFields(true);
    for (int i = 0; i < 100; i++) {
      Message request = generator.request(signal);
      ByteBuf input = Unpooled.wrappedBuffer(request.toByteArray());
      ByteBuf rewritten = FROM_ATTRIBUTE.apply(signal, input);
      try {
        assertThat(OfficialView.parse(signal, ByteBufUtil.getBytes(rewritten)))
            .isEqualTo(expectedFromAttribute(request));
      } finally {
        rewritten.release();
        input.release();
      }
    }
  }

  private static Message expectedFromAttribute(Message request) {
    Message.Builder out = request.toBuilder();
    FieldDescriptor entries = request.getDescriptorForType().findFieldByNumber(1);
    for (int i = 0; i < out.getRepeatedFieldCount(entries); i++) {
      Message entry = (Message) out.getRepeatedField(entries, i);
      FieldDescriptor resourceField = entry.getDescriptorForType().findFieldByNumber(1);
      if (!entry.hasField(resourceField)) {
        continue; // nothing to copy from: no resource is created
      }
      Resource resource = (Resource) entry.getField(resourceField);
      Map<String, KeyValue> firstByKey = new LinkedHashMap<>();
      for (KeyValue kv : resource.getAttributesList()) {
        firstByKey.putIfAbsent(kv.getKey(), kv);
      }
      // target -> [source, action]
      String[][] ops = {
        {"copied.service", "service.name", "insert"},
        {"url.path", "user.id", "update"},
        {"db.system", "k8s.pod.name", "upsert"},
        {"service.name", "thread.name", "insert"}
      };
      List<KeyValue> attributes = new ArrayList<>();
      List<String> seen = new ArrayList<>();
      for (KeyValue kv : resource.getAttributesList()) {
        String key = kv.getKey();
        boolean first = !seen.contains(key);
        seen.add(key);
        if (key.equals("thread.name")) {
          continue;
        }
        String[] op = null;
        for (String[] o : ops) {
          if (o[0].equals(key) && !o[2].equals("insert") && firstByKey.containsKey(o[1])) {
            op = o;
          }
        }
        if (op == null) {
          attributes.add(kv);
        } else if (first) {
          attributes.add(withValueOf(kv.toBuilder(), firstByKey.get(op[1])).build());
        }
      }
      for (String[] o : ops) {
        if (!o[2].equals("update") && !seen.contains(o[0]) && firstByKey.containsKey(o[1])) {
          attributes.add(
              withValueOf(KeyValue.newBuilder().setKey(o[0]), firstByKey.get(o[1])).build());
        }
      }
      Resource rewritten =
          resource.toBuilder().clearAttributes().addAllAttributes(attributes).build();
      out.setRepeatedField(
          entries, i, entry.toBuilder().setField(resourceField, rewritten).build());
    }
    return out.build();
  }

  private static KeyValue.Builder withValueOf(KeyValue.Builder target, KeyValue source) {
    return source.hasValue() ? target.setValue(source.getValue()) : target.clearValue();
  }

  @Test
  void insertKeepsAPresentKeyAndUpdateNeverAddsOne() throws Exception {
    ExportTraceServiceRequest request =
        ExportTraceServiceRequest.newBuilder()
            .addResourceSpans(
                ResourceSpans.newBuilder()
                    .setResource(
                        Resource.newBuilder()
                            .addAttributes(kv("env", "dev"))
                            .addAttributes(kv("env", "dev2"))))
            .addResourceSpans(ResourceSpans.newBuilder().setSchemaUrl("no resource"))
            .build();
    ByteBuf input = Unpooled.wrappedBuffer(request.toByteArray());
    ResourceRewrite rewrite =
        ResourceRewrite.builder().insert("env", "prod").update("region", "eu").build();
    ByteBuf out = rewrite.apply(Signal.TRACES, input);
    try {
      ExportTraceServiceRequest parsed =
          ExportTraceServiceRequest.parseFrom(ByteBufUtil.getBytes(out));
      assertThat(parsed.getResourceSpans(0).getResource().getAttributesList())
          .containsExactly(kv("env", "dev"), kv("env", "dev2"));
      assertThat(parsed.getResourceSpans(1).getResource().getAttributesList())
          .containsExactly(kv("env", "prod"));
      assertThat(rewrite).hasToString("ResourceRewrite[insert env, update region]");
    } finally {
      out.release();
      input.release();
    }
  }

  @Test
  void duplicatesOfAnUpsertedKeyAreRemovedAndTheFirstReplacedInPlace() throws Exception {
    ExportTraceServiceRequest request =
        ExportTraceServiceRequest.newBuilder()
            .addResourceSpans(
                ResourceSpans.newBuilder()
                    .setResource(
                        Resource.newBuilder()
                            .addAttributes(kv("a", "1"))
                            .addAttributes(kv("service.name", "x"))
                            .addAttributes(kv("b", "2"))
                            .addAttributes(kv("service.name", "y"))
                            .addAttributes(kv("host.name", "h"))
                            .setDroppedAttributesCount(3)))
            .addResourceSpans(ResourceSpans.newBuilder().setSchemaUrl("no resource"))
            .build();
    ByteBuf input = Unpooled.wrappedBuffer(request.toByteArray());
    ByteBuf out =
        ResourceRewrite.builder()
            .upsert("service.name", "z")
            .delete("host.name")
            .build()
            .apply(Signal.TRACES, input);
    try {
      ExportTraceServiceRequest parsed =
          ExportTraceServiceRequest.parseFrom(ByteBufUtil.getBytes(out));
      assertThat(parsed.getResourceSpans(0).getResource().getAttributesList())
          .containsExactly(kv("a", "1"), kv("service.name", "z"), kv("b", "2"));
      assertThat(parsed.getResourceSpans(0).getResource().getDroppedAttributesCount()).isEqualTo(3);
      assertThat(parsed.getResourceSpans(1).getResource().getAttributesList())
          .containsExactly(kv("service.name", "z"));
      assertThat(parsed.getResourceSpans(1).getSchemaUrl()).isEqualTo("no resource");
    } finally {
      out.release();
      input.release();
    }
  }

  @Test
  void aResourceSentTwiceIsMergedAsProtobufMergesIt() throws Exception {
    Resource first = Resource.newBuilder().addAttributes(kv("a", "1")).build();
    Resource second =
        Resource.newBuilder()
            .addAttributes(kv("host.name", "h"))
            .addAttributes(kv("c", "3"))
            .build();
    ProtoWriter w = new ProtoWriter();
    w.begin(1).bytes(1, first.toByteArray()).string(3, "s").bytes(1, second.toByteArray()).end();
    ByteBuf input = Unpooled.wrappedBuffer(w.toByteArray());
    ByteBuf out = ResourceRewrite.builder().delete("host.name").build().apply(Signal.TRACES, input);
    try {
      ExportTraceServiceRequest parsed =
          ExportTraceServiceRequest.parseFrom(ByteBufUtil.getBytes(out));
      assertThat(parsed.getResourceSpans(0).getResource().getAttributesList())
          .containsExactly(kv("a", "1"), kv("c", "3"));
      assertThat(parsed.getResourceSpans(0).getSchemaUrl()).isEqualTo("s");
    } finally {
      out.release();
      input.release();
    }
  }

  @Test
  void malformedInputIsRefusedAndBuilderArgumentsChecked() {
    ByteBuf input = Unpooled.wrappedBuffer(new byte[] {0x0A, 0x02, 0x0A, 0x05});
    assertThatThrownBy(() -> REWRITE.apply(Signal.TRACES, input))
        .isInstanceOf(WireFormatException.class);
    assertThat(input.refCnt()).isEqualTo(1);
    input.release();
    assertThatThrownBy(() -> ResourceRewrite.builder().upsert("", "v")).hasMessageContaining("key");
    assertThatThrownBy(() -> ResourceRewrite.builder().upsert("k", (String) null))
        .hasMessageContaining("value");
  }

  private static KeyValue kv(String key, String value) {
    return KeyValue.newBuilder()
        .setKey(key)
        .setValue(AnyValue.newBuilder().setStringValue(value))
        .build();
  }
}
