package io.otlp4j.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JsonGenerator;
import com.google.protobuf.Message;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.otlp4j.wire.testing.OtlpGenerator;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every input and output form gives the same result; buffers are neither moved nor released. */
class OtlpJsonApiTest {
  private static final Message MESSAGE = new OtlpGenerator(5).traces();
  private static final byte[] PROTOBUF = MESSAGE.toByteArray();
  private static final byte[] JSON = OtlpJson.toJson(Signal.TRACES, PROTOBUF);

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void aByteBufIsReadBetweenItsIndexesAndLeftAsItWas(boolean direct) {
    ByteBuf json =
        direct ? ByteBufAllocator.DEFAULT.directBuffer() : ByteBufAllocator.DEFAULT.heapBuffer();
    ByteBuf protobuf =
        direct ? ByteBufAllocator.DEFAULT.directBuffer() : ByteBufAllocator.DEFAULT.heapBuffer();
    ByteBuf out = ByteBufAllocator.DEFAULT.buffer();
    try {
      json.writeBytes(new byte[] {'x', 'y'})
          .writeBytes(JSON)
          .writeByte('z')
          .readerIndex(2)
          .writerIndex(2 + JSON.length);
      protobuf.writeByte(0x7F).writeBytes(PROTOBUF).readerIndex(1);

      assertThat(OtlpJson.toProtobuf(Signal.TRACES, json)).isEqualTo(PROTOBUF);
      OtlpJson.toJson(Signal.TRACES, protobuf, out.writeByte('>'));

      assertThat(json.readerIndex()).isEqualTo(2);
      assertThat(json.refCnt()).isEqualTo(1);
      assertThat(protobuf.readerIndex()).isEqualTo(1);
      byte[] written = new byte[out.readableBytes() - 1];
      out.getBytes(1, written);
      assertThat(written).isEqualTo(JSON);
    } finally {
      json.release();
      protobuf.release();
      out.release();
    }
  }

  @Test
  void aStreamIsReadToItsEndAndNotClosed() throws IOException {
    boolean[] closed = {false};
    InputStream in =
        new ByteArrayInputStream(JSON) {
          @Override
          public void close() {
            closed[0] = true;
          }
        };
    ProtoWriter out = new ProtoWriter();

    OtlpJson.toProtobuf(Signal.TRACES, in, out);

    assertThat(out.toByteArray()).isEqualTo(PROTOBUF);
    assertThat(closed[0]).isFalse();
  }

  @Test
  void aMalformedStreamIsAWireFormatExceptionWithTheByteOffset() {
    InputStream in =
        new ByteArrayInputStream("{\"resourceSpans\":[}".getBytes(StandardCharsets.UTF_8));

    assertThatThrownBy(() -> OtlpJson.toProtobuf(Signal.TRACES, in, new ProtoWriter()))
        .isInstanceOfSatisfying(
            WireFormatException.class, e -> assertThat(e.offset()).isEqualTo(18));
  }

  @Test
  void aWriterAppendsTheRequestFieldsSoItCanBeEmbedded() {
    ProtoWriter out = new ProtoWriter();
    out.begin(7);

    OtlpJson.toProtobuf(Signal.TRACES, JSON, 0, JSON.length, out);
    out.end();

    ProtoWriter expected = new ProtoWriter().bytes(7, PROTOBUF);
    assertThat(out.toByteArray()).isEqualTo(expected.toByteArray());
  }

  @Test
  void anOutputStreamIsWrittenAndNotClosed() throws IOException {
    boolean[] closed = {false};
    ByteArrayOutputStream out =
        new ByteArrayOutputStream() {
          @Override
          public void close() {
            closed[0] = true;
          }
        };

    OtlpJson.toJson(Signal.TRACES, PROTOBUF, 0, PROTOBUF.length, out);

    assertThat(out.toByteArray()).isEqualTo(JSON);
    assertThat(closed[0]).isFalse();
  }

  @Test
  void aCharacterGeneratorGetsTheSameJsonAsTheUtf8One() throws IOException {
    StringWriter text = new StringWriter();
    try (JsonGenerator g = new com.fasterxml.jackson.core.JsonFactory().createGenerator(text)) {
      OtlpJson.toJson(Signal.TRACES, PROTOBUF, 0, PROTOBUF.length, g);
    }

    assertThat(text.toString()).isEqualTo(new String(JSON, StandardCharsets.UTF_8));
  }

  @Test
  void aFailedTranscodingLeavesItsOutputVisiblyUnfinished() throws IOException {
    byte[] truncated = java.util.Arrays.copyOf(PROTOBUF, PROTOBUF.length - 1);
    ByteArrayOutputStream out = new ByteArrayOutputStream();

    assertThatThrownBy(() -> OtlpJson.toJson(Signal.TRACES, truncated, 0, truncated.length, out))
        .isInstanceOf(WireFormatException.class);
    assertThatThrownBy(() -> OtlpJson.toProtobuf(Signal.TRACES, out.toByteArray()))
        .isInstanceOf(WireFormatException.class);
  }

  @Test
  void concurrentCallsGiveTheResultsOfSequentialOnes() throws Exception {
    List<byte[]> protobufs = new ArrayList<>();
    List<byte[]> jsons = new ArrayList<>();
    OtlpGenerator generator = new OtlpGenerator(17);
    for (int i = 0; i < 64; i++) {
      byte[] protobuf = generator.request(Signal.values()[i % 3]).toByteArray();
      protobufs.add(protobuf);
      jsons.add(OtlpJson.toJson(Signal.values()[i % 3], protobuf));
    }
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<Boolean>> results = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        results.add(
            pool.submit(
                () -> {
                  for (int round = 0; round < 5; round++) {
                    for (int i = 0; i < protobufs.size(); i++) {
                      Signal signal = Signal.values()[i % 3];
                      if (!java.util.Arrays.equals(
                              OtlpJson.toJson(signal, protobufs.get(i)), jsons.get(i))
                          || !java.util.Arrays.equals(
                              OtlpJson.toProtobuf(signal, jsons.get(i)), protobufs.get(i))) {
                        return false;
                      }
                    }
                  }
                  return true;
                }));
      }
      for (Future<Boolean> result : results) {
        assertThat(result.get(60, TimeUnit.SECONDS)).isTrue();
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void nullArgumentsAreRefusedNamingThem() {
    assertThatThrownBy(() -> OtlpJson.toProtobuf(null, JSON))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("signal");
    assertThatThrownBy(
            () -> OtlpJson.toProtobuf(Signal.TRACES, JSON, 0, JSON.length + 1, new ProtoWriter()))
        .isInstanceOf(IndexOutOfBoundsException.class);
  }
}
