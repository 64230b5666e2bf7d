package io.otlp4j.relay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.RetryInfo;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.StatusProto;
import io.otlp4j.relay.config.RelayConfig;
import io.otlp4j.relay.config.RelayConfigException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;

/**
 * A {@link Relay} started from Collector-shaped YAML (endpoints on port 0) in a chosen {@link
 * AckMode}, with the clients a test talks to it through: JDK {@link HttpClient} for OTLP/HTTP and
 * the admin endpoint, grpc-java channels for OTLP/gRPC, and a reader of {@code /metrics}.
 *
 * <p>Closing it shuts the relay down (if the test has not) and closes the channels. Thread-safe.
 */
final class RelayUnderTest implements AutoCloseable {
  static final String PROTOBUF = "application/x-protobuf";
  static final String JSON = "application/json";

  private static final Pattern SAMPLE =
      Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)})?\\s+(\\S+)$");
  private static final Pattern LABEL =
      Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

  final Relay relay;
  final AckMode ackMode;
  final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();
  private final List<ManagedChannel> channels = new ArrayList<>();
  private final URI admin;

  private RelayUnderTest(Relay relay, AckMode ackMode) {
    this.relay = relay;
    this.ackMode = ackMode;
    this.admin = URI.create("http://127.0.0.1:" + relay.adminAddress().getPort());
  }

  /**
   * Starts a relay from {@code yaml}, where {@code ${env:NAME}} is looked up in {@code env}.
   *
   * @param ackMode the acknowledgement mode the relay answers clients in
   */
  static RelayUnderTest start(String yaml, Map<String, String> env, AckMode ackMode, Path dir)
      throws RelayConfigException {
    RelayConfig config = RelayConfig.parse(yaml, env::get, dir).withAckMode(ackMode);
    return new RelayUnderTest(Relay.start(config), ackMode);
  }

  /**
   * Awaitility polling every 10 ms from the start, for the short waits inside a paced loop (the
   * default first poll comes after 100 ms), bounded by {@code atMost}.
   */
  static ConditionFactory promptly(Duration atMost) {
    return Awaitility.await()
        .atMost(atMost)
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(10));
  }

  /**
   * The ack modes the relay implements: every relay scenario test runs once per mode listed here.
   */
  static Stream<AckMode> ackModes() {
    return Stream.of(AckMode.RECEIVED, AckMode.DELIVERED);
  }

  URI httpUri(String receiverId, String path) {
    return URI.create("http://127.0.0.1:" + relay.httpAddress(receiverId).getPort() + path);
  }

  URI httpUri(String path) {
    return httpUri("otlp", path);
  }

  /**
   * A plaintext grpc-java channel to receiver {@code receiverId}'s OTLP/gRPC port, closed with this
   * object.
   */
  synchronized ManagedChannel grpcChannel(String receiverId) {
    return grpcChannel(
        NettyChannelBuilder.forAddress(relay.grpcAddress(receiverId)).usePlaintext());
  }

  /** {@code builder}'s channel, closed with this object. */
  synchronized ManagedChannel grpcChannel(NettyChannelBuilder builder) {
    ManagedChannel channel = builder.build();
    channels.add(channel);
    return channel;
  }

  ManagedChannel grpcChannel() {
    return grpcChannel("otlp");
  }

  HttpResponse<byte[]> post(URI uri, String contentType, String encoding, byte[] body) {
    try {
      return http.send(
          request(uri, contentType, encoding, body), HttpResponse.BodyHandlers.ofByteArray());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  HttpResponse<byte[]> post(String path, byte[] protobuf) {
    return post(httpUri(path), PROTOBUF, null, protobuf);
  }

  CompletableFuture<HttpResponse<byte[]>> postAsync(String path, byte[] protobuf) {
    return http.sendAsync(
        request(httpUri(path), PROTOBUF, null, protobuf), HttpResponse.BodyHandlers.ofByteArray());
  }

  static HttpRequest request(URI uri, String contentType, String encoding, byte[] body) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(uri)
            .timeout(Duration.ofSeconds(20))
            .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    if (encoding != null) {
      b.header("Content-Encoding", encoding);
    }
    return b.build();
  }

  /** The status {@code /healthz} answers. */
  int health() throws IOException, InterruptedException {
    return http.send(
            HttpRequest.newBuilder(admin.resolve("/healthz"))
                .timeout(Duration.ofSeconds(30))
                .build(),
            HttpResponse.BodyHandlers.discarding())
        .statusCode();
  }

  /** {@code /metrics}, as the admin endpoint serves it. */
  String scrape() {
    try {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(admin.resolve("/metrics"))
                  .timeout(Duration.ofSeconds(30))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        throw new AssertionError("/metrics answered " + r.statusCode());
      }
      return r.body();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * The value of the sample {@code name} in {@code /metrics} whose labels include {@code
   * labelPairs} (name, value, name, value…); fails when there is none or more than one.
   */
  double metric(String name, String... labelPairs) {
    return sample(scrape(), name, labelPairs);
  }

  static double sample(String text, String name, String... labelPairs) {
    List<Double> found = new ArrayList<>();
    for (String line : text.split("\n")) {
      if (line.startsWith("#")) {
        continue;
      }
      Matcher m = SAMPLE.matcher(line.trim());
      if (!m.matches() || !m.group(1).equals(name)) {
        continue;
      }
      Map<String, String> labels = new java.util.HashMap<>();
      if (m.group(3) != null) {
        Matcher l = LABEL.matcher(m.group(3));
        while (l.find()) {
          labels.put(l.group(1), l.group(2));
        }
      }
      boolean all = true;
      for (int i = 0; i < labelPairs.length; i += 2) {
        all &= labelPairs[i + 1].equals(labels.get(labelPairs[i]));
      }
      if (all) {
        found.add(Double.parseDouble(m.group(4)));
      }
    }
    if (found.size() != 1) {
      throw new AssertionError(
          "expected one sample "
              + name
              + " with "
              + List.of(labelPairs)
              + ", found "
              + found
              + " in\n"
              + text);
    }
    return found.get(0);
  }

  /**
   * The {@code google.rpc.Status} in an OTLP/HTTP error response, protobuf or JSON as its content
   * type says.
   */
  static com.google.rpc.Status statusBody(HttpResponse<byte[]> response) {
    String type = response.headers().firstValue("content-type").orElse("");
    try {
      if (type.startsWith(JSON)) {
        JsonNode node =
            new ObjectMapper().readTree(new String(response.body(), StandardCharsets.UTF_8));
        com.google.rpc.Status.Builder b =
            com.google.rpc.Status.newBuilder()
                .setCode(node.path("code").asInt())
                .setMessage(node.path("message").asText());
        return b.build();
      }
      if (!type.equals(PROTOBUF)) {
        throw new AssertionError("error response of content type '" + type + "'");
      }
      return com.google.rpc.Status.parseFrom(response.body());
    } catch (IOException e) {
      throw new AssertionError("error response body is not a google.rpc.Status", e);
    }
  }

  /**
   * The {@code RetryInfo} delay a gRPC error carries in its status details; null when there is
   * none.
   */
  static Duration retryDelay(StatusRuntimeException e) {
    com.google.rpc.Status status = StatusProto.fromThrowable(e);
    if (status == null) {
      return null;
    }
    for (com.google.protobuf.Any detail : status.getDetailsList()) {
      if (detail.is(RetryInfo.class)) {
        try {
          com.google.protobuf.Duration d = detail.unpack(RetryInfo.class).getRetryDelay();
          return Duration.ofSeconds(d.getSeconds(), d.getNanos());
        } catch (InvalidProtocolBufferException x) {
          throw new AssertionError(x);
        }
      }
    }
    return null;
  }

  /**
   * Closes the test's gRPC channels, then shuts the relay down; returns whether it drained in time.
   */
  boolean shutdown(Duration deadline) throws InterruptedException {
    closeChannels();
    return relay.shutdown(deadline);
  }

  private void closeChannels() throws InterruptedException {
    List<ManagedChannel> all;
    synchronized (this) {
      all = List.copyOf(channels);
    }
    for (ManagedChannel c : all) {
      c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Override
  public void close() throws InterruptedException {
    shutdown(Duration.ofSeconds(10));
  }
}
