package io.otlp4j.receiver;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.InvalidProtocolBufferException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.otlp4j.core.MemoryBudget;
import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.core.Outcome;
import io.otlp4j.wire.Compression;
import io.otlp4j.wire.OtlpJson;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.WireFormatException;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Coverage-guided fuzzing of the OTLP/HTTP receiver's request handling: the receiver's own pipeline
 * ({@link HttpServerCodec} then {@link OtlpHttpHandler}, as {@link HttpReceiver} installs it) on an
 * {@link EmbeddedChannel}, fed either raw bytes or a request built from fuzzed parts: method, path,
 * bearer token, content type, content encoding (with a body compressed for real or not), framing
 * (Content-Length right, wrong or absent, chunked), extra headers, a body, and sometimes a second
 * pipelined request.
 *
 * <p>Properties, for every input: nothing is thrown out of the pipeline; every answer is one of the
 * documented statuses (200, 400, 401, 404, 405, 413, 415, 429, 503), never a 5xx of our own
 * failure; a well-formed request (POST, right path, token, type, encoding and length, a valid body)
 * is answered 200 and its payload reaches the sink exactly (protobuf, or the transcoded JSON);
 * whatever reaches the sink parses with protobuf-java; after the connection closes no buffer is
 * left allocated and the memory budget is back to zero.
 */
class HttpRequestFuzzTest {
  private static final String TOKEN = "s3cret-token";
  private static final int MAX_REQUEST_BYTES = 64 * 1024;
  private static final Set<Integer> DOCUMENTED =
      Set.of(100, 200, 400, 401, 404, 405, 413, 415, 429, 503);
  private static final Pattern STATUS = Pattern.compile("HTTP/1\\.1 (\\d{3}) ");
  private static final String[] METHODS = {"POST", "GET", "PUT", "OPTIONS", "HEAD", "DELETE"};
  private static final String[] PATHS = {"/v1/traces", "/v1/metrics", "/v1/logs"};
  private static final String[] TYPES = {
    "application/x-protobuf", "application/json", "application/json; charset=utf-8",
    "application/protobuf", "text/plain", "APPLICATION/JSON"
  };
  private static final String[] ENCODINGS = {"", "gzip", "zstd", "identity", "x-gzip", "br"};

  private record Received(Signal signal, byte[] bytes) {}

  @FuzzTest(maxDuration = "5m")
  void request(FuzzedDataProvider data) {
    List<Received> received = new ArrayList<>();
    MemoryBudget budget = MemoryBudget.builder(data.consumeBoolean() ? 1 << 20 : 1 << 12).build();
    InFlight inFlight = new InFlight();
    ReceiverSink sink =
        (signal, request, summary) -> {
          try {
            received.add(new Received(signal, ByteBufUtil.getBytes(request)));
          } finally {
            request.release();
          }
          return CompletableFuture.completedFuture(Outcome.accepted());
        };
    HttpReceiver.Shared shared =
        new HttpReceiver.Shared(
            inFlight,
            new RequestDispatch(
                sink,
                new ReceiverMetrics(MetricsRegistry.create(), "otlp", "http", inFlight::count)),
            budget,
            BearerAuth.of(TOKEN),
            MAX_REQUEST_BYTES,
            Duration.ofSeconds(1),
            Map.of(PATHS[0], Signal.TRACES, PATHS[1], Signal.METRICS, PATHS[2], Signal.LOGS));
    UnpooledByteBufAllocator alloc = new UnpooledByteBufAllocator(false, true);
    EmbeddedChannel channel = new EmbeddedChannel();
    channel.config().setAllocator(alloc);
    channel
        .pipeline()
        .addLast("http", new HttpServerCodec())
        .addLast("otlp", new OtlpHttpHandler(shared));

    Expected expected = null;
    boolean raw = data.consumeInt(0, 9) == 0;
    List<byte[]> writes = new ArrayList<>();
    if (raw) {
      byte[] bytes = data.consumeRemainingAsBytes();
      int cut = bytes.length / 2;
      writes.add(Arrays.copyOfRange(bytes, 0, cut));
      writes.add(Arrays.copyOfRange(bytes, cut, bytes.length));
    } else {
      boolean second = data.consumeInt(0, 7) == 0;
      Request first = Request.from(data);
      writes.addAll(first.chunks);
      expected = first.expected;
      if (second) {
        writes.addAll(Request.from(data).chunks);
        expected = null; // the first is answered; what happens to the second is not fixed
      }
    }
    List<Integer> statuses = new ArrayList<>();
    try {
      for (byte[] w : writes) {
        if (!channel.isOpen()) {
          break;
        }
        channel.writeInbound(Unpooled.wrappedBuffer(w));
        channel.runPendingTasks();
        channel.checkException();
        readAnswers(channel, statuses);
      }
      channel.runPendingTasks();
      channel.checkException();
      readAnswers(channel, statuses);
    } finally {
      channel.close();
      channel.runPendingTasks();
      channel.finishAndReleaseAll();
    }
    for (int status : statuses) {
      assertThat(DOCUMENTED).as("answer status").contains(status);
    }
    for (Received r : received) {
      try {
        switch (r.signal) {
          case TRACES -> ExportTraceServiceRequest.parseFrom(r.bytes);
          case METRICS -> ExportMetricsServiceRequest.parseFrom(r.bytes);
          default -> ExportLogsServiceRequest.parseFrom(r.bytes);
        }
      } catch (InvalidProtocolBufferException e) {
        throw new AssertionError("the sink got what protobuf-java refuses", e);
      }
    }
    if (expected != null) {
      assertThat(statuses).as("answers to a well-formed request").containsExactly(200);
      assertThat(received).hasSize(1);
      assertThat(received.get(0).signal).isEqualTo(expected.signal);
      assertThat(received.get(0).bytes).isEqualTo(expected.protobuf);
    }
    assertThat(budget.usedBytes()).as("budget held after the connection closed").isZero();
    assertThat(alloc.metric().usedHeapMemory()).as("bytes left allocated").isZero();
    assertThat(inFlight.count()).isZero();
  }

  private static void readAnswers(EmbeddedChannel channel, List<Integer> statuses) {
    ByteBuf out;
    while ((out = channel.readOutbound()) != null) {
      try {
        String text = out.toString(StandardCharsets.ISO_8859_1);
        Matcher m = STATUS.matcher(text);
        int at = 0;
        while (m.find(at)) {
          if (m.start() == 0 || text.startsWith("\r\n", m.start() - 2)) {
            statuses.add(Integer.parseInt(m.group(1)));
          }
          at = m.end();
        }
      } finally {
        out.release();
      }
    }
  }

  /** What the sink must get from a well-formed request. */
  private record Expected(Signal signal, byte[] protobuf) {}

  /** One request built from fuzzed parts, cut into the writes that carry it. */
  private record Request(List<byte[]> chunks, Expected expected) {

    static Request from(FuzzedDataProvider data) {
      boolean wellFormed = true;
      int methodChoice = data.consumeInt(0, METHODS.length);
      String method =
          methodChoice == METHODS.length ? data.consumeAsciiString(8) : METHODS[methodChoice];
      wellFormed &= method.equals("POST");
      int pathChoice = data.consumeInt(0, PATHS.length);
      String path = pathChoice == PATHS.length ? data.consumeAsciiString(20) : PATHS[pathChoice];
      Signal signal = pathChoice < PATHS.length ? Signal.values()[pathChoice] : null;
      wellFormed &= signal != null;
      int auth = data.consumeInt(0, 2); // right, wrong, absent
      wellFormed &= auth == 0;
      int typeChoice = data.consumeInt(0, TYPES.length + 1);
      String type =
          typeChoice == TYPES.length
              ? data.consumeAsciiString(30)
              : typeChoice > TYPES.length ? null : TYPES[typeChoice];
      boolean json = (typeChoice >= 1 && typeChoice <= 2) || typeChoice == 5;
      wellFormed &= typeChoice <= 2 || typeChoice == 5;
      int encodingChoice = data.consumeInt(0, ENCODINGS.length);
      String encoding =
          encodingChoice == ENCODINGS.length
              ? data.consumeAsciiString(10)
              : ENCODINGS[encodingChoice];
      Compression codec =
          switch (encodingChoice) {
            case 1, 4 -> Compression.GZIP;
            case 2 -> Compression.ZSTD;
            case 0, 3 -> Compression.NONE;
            default -> null;
          };
      wellFormed &= codec != null;
      boolean compressForReal = data.consumeBoolean();
      int framing = data.consumeInt(0, 3); // Content-Length, wrong Content-Length, chunked, none
      int chunkCount = data.consumeInt(1, 4);
      String extraHeader = data.consumeBoolean() ? data.consumeAsciiString(40) : null;
      boolean expectContinue = data.consumeInt(0, 15) == 0;
      // an extra header line of arbitrary text may be malformed HTTP (400): not well-formed
      wellFormed &= extraHeader == null && !expectContinue && (framing == 0 || framing == 2);
      byte[] payload = data.consumeBytes(data.consumeInt(0, 4096));
      int wrongLength = data.consumeInt(0, MAX_REQUEST_BYTES * 2);

      byte[] protobuf = null;
      if (wellFormed) {
        try {
          protobuf = json ? OtlpJson.toProtobuf(signal, payload) : payload;
          io.otlp4j.wire.OtlpWalker.create().walk(signal, protobuf);
        } catch (WireFormatException e) {
          wellFormed = false;
        }
      }
      byte[] body =
          codec != null && codec != Compression.NONE && compressForReal
              ? codec.compress(payload)
              : payload;
      wellFormed &= codec == Compression.NONE || compressForReal;
      wellFormed &= body.length <= MAX_REQUEST_BYTES && body.length > 0;

      StringBuilder head = new StringBuilder();
      head.append(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: fuzz\r\n");
      if (auth == 0) {
        head.append("Authorization: Bearer ").append(TOKEN).append("\r\n");
      } else if (auth == 1) {
        head.append("Authorization: Bearer x").append(TOKEN).append("\r\n");
      }
      if (type != null) {
        head.append("Content-Type: ").append(type).append("\r\n");
      }
      if (!encoding.isEmpty()) {
        head.append("Content-Encoding: ").append(encoding).append("\r\n");
      }
      switch (framing) {
        case 0 -> head.append("Content-Length: ").append(body.length).append("\r\n");
        case 1 -> head.append("Content-Length: ").append(wrongLength).append("\r\n");
        case 2 -> head.append("Transfer-Encoding: chunked\r\n");
        default -> {}
      }
      if (expectContinue) {
        head.append("Expect: 100-continue\r\n");
      }
      if (extraHeader != null) {
        head.append(extraHeader).append("\r\n");
      }
      head.append("\r\n");
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      bytes.writeBytes(head.toString().getBytes(StandardCharsets.ISO_8859_1));
      List<byte[]> chunks = new ArrayList<>();
      if (framing == 2) {
        int per = Math.max(1, (body.length + chunkCount - 1) / chunkCount);
        for (int at = 0; at < body.length; at += per) {
          int n = Math.min(per, body.length - at);
          bytes.writeBytes((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.US_ASCII));
          bytes.write(body, at, n);
          bytes.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        bytes.writeBytes("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      } else {
        bytes.writeBytes(body);
      }
      byte[] all = bytes.toByteArray();
      // cut into chunkCount writes, so that heads and bodies arrive in pieces
      int per = Math.max(1, (all.length + chunkCount - 1) / chunkCount);
      for (int at = 0; at < all.length; at += per) {
        chunks.add(Arrays.copyOfRange(all, at, Math.min(all.length, at + per)));
      }
      return new Request(chunks, wellFormed ? new Expected(signal, protobuf) : null);
    }
  }
}
