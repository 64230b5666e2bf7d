package io.otlp4j.bench.relay;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The benchmark's physical limit is only a limit if it forwards every byte unchanged. */
@Timeout(30)
class RawTcpForwarderTest {
  private static final int CLIENTS = 3;
  private static final int BYTES = 512 * 1024;

  private final ExecutorService threads = Executors.newCachedThreadPool();
  private final AtomicInteger upstreamConnections = new AtomicInteger();
  private ServerSocket echo;

  @BeforeEach
  void startEchoUpstream() throws IOException {
    echo = new ServerSocket();
    echo.bind(new InetSocketAddress("127.0.0.1", 0));
    threads.submit(
        () -> {
          while (!echo.isClosed()) {
            Socket s;
            try {
              s = echo.accept();
            } catch (IOException closed) {
              return null;
            }
            upstreamConnections.incrementAndGet();
            threads.submit(
                () -> {
                  try (s;
                      InputStream in = s.getInputStream();
                      OutputStream out = s.getOutputStream()) {
                    in.transferTo(out); // echo until the client half-closes
                  }
                  return null;
                });
          }
          return null;
        });
  }

  @AfterEach
  void stop() throws IOException, InterruptedException {
    echo.close();
    threads.shutdownNow();
    assertThat(threads.awaitTermination(5, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void forwardsEveryByteUnchangedBothWaysOverOneUpstreamConnectionPerClient() throws Exception {
    try (RawTcpForwarder forwarder =
        RawTcpForwarder.start((InetSocketAddress) echo.getLocalSocketAddress(), 2)) {
      List<Future<byte[][]>> exchanges = new ArrayList<>();
      for (int c = 0; c < CLIENTS; c++) {
        byte[] sent = new byte[BYTES];
        new Random(c).nextBytes(sent);
        exchanges.add(
            threads.submit(
                () -> {
                  try (Socket s = new Socket("127.0.0.1", forwarder.port())) {
                    Future<?> writer =
                        threads.submit(
                            () -> {
                              OutputStream out = s.getOutputStream();
                              for (int off = 0;
                                  off < sent.length;
                                  off += 7919) { // odd chunks, split across reads
                                out.write(sent, off, Math.min(7919, sent.length - off));
                              }
                              out.flush();
                              return null;
                            });
                    byte[] received = new byte[BYTES];
                    new DataInputStream(s.getInputStream()).readFully(received);
                    writer.get();
                    return new byte[][] {sent, received};
                  }
                }));
      }
      for (Future<byte[][]> exchange : exchanges) {
        byte[][] pair = exchange.get(20, TimeUnit.SECONDS);
        assertThat(pair[1]).isEqualTo(pair[0]);
      }
      assertThat(upstreamConnections).hasValue(CLIENTS);
    }
  }
}
