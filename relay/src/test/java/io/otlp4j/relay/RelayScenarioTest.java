package io.otlp4j.relay;

import io.otlp4j.testing.Answer;
import io.otlp4j.testing.MockOtlpServer;
import io.otlp4j.testing.NettyLeakCheck;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * What every relay scenario test shares: Netty leak detection that fails the test and the class, a
 * temporary directory, the relay under test and the upstreams it sends to (fake OTLP/gRPC receivers
 * that accept only what they answered OK, and can {@linkplain #hold hold} their answers). After
 * each test the upstreams are released (held calls answered), the relay is stopped, then the
 * upstreams are closed.
 */
@ExtendWith(NettyLeakCheck.class)
abstract class RelayScenarioTest {

  @TempDir Path dir;

  /** The relay under test; a test assigns it, the base class closes it. */
  RelayUnderTest relay;

  private final List<MockOtlpServer> upstreams = new ArrayList<>();
  private final Map<MockOtlpServer, CompletableFuture<Void>> gates = new IdentityHashMap<>();

  /** A started upstream that is released and closed after the test. */
  MockOtlpServer startUpstream() {
    MockOtlpServer upstream = MockOtlpServer.started();
    upstreams.add(upstream);
    return upstream;
  }

  /** {@code upstream} leaves every later call unanswered until {@link #release}. */
  synchronized void hold(MockOtlpServer upstream) {
    CompletableFuture<Void> gate = gates.computeIfAbsent(upstream, u -> new CompletableFuture<>());
    upstream.defaultAnswer(Answer.ok().heldUntil(gate));
  }

  /** {@code upstream} answers the held calls, and later ones at once. */
  synchronized void release(MockOtlpServer upstream) {
    upstream.defaultAnswer(Answer.ok());
    CompletableFuture<Void> gate = gates.remove(upstream);
    if (gate != null) {
      gate.complete(null);
    }
  }

  /** Each name once: what an upstream should have received. */
  static Map<String, Long> onceEach(Collection<String> names) {
    return names.stream().collect(Collectors.toMap(Function.identity(), n -> 1L));
  }

  @AfterEach
  void stopRelayAndUpstreams() throws Exception {
    for (MockOtlpServer upstream : upstreams) {
      release(upstream);
    }
    if (relay != null) {
      relay.close();
    }
    for (MockOtlpServer upstream : upstreams) {
      upstream.close();
    }
  }
}
