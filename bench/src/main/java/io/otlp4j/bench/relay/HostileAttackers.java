package io.otlp4j.bench.relay;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/** The hostile clients, each a loop on its own thread until {@link #stop()}. */
final class HostileAttackers {
  private static final byte[] PREFACE =
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
  private final int grpcPort;
  private final int httpPort;
  private final int slowloris;
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final List<Thread> threads = new ArrayList<>();
  private final Map<String, AtomicLong> counts = new TreeMap<>();
  private final byte[] headers;

  HostileAttackers(int grpcPort, int httpPort, int slowloris) {
    this.grpcPort = grpcPort;
    this.httpPort = httpPort;
    this.slowloris = slowloris;
    DefaultHttp2Headers h = new DefaultHttp2Headers();
    h.method("POST")
        .scheme("http")
        .path("/opentelemetry.proto.collector.trace.v1.TraceService/Export")
        .authority("localhost")
        .add("content-type", "application/grpc")
        .add("te", "trailers");
    ByteBuf buf = Unpooled.buffer();
    try {
      new DefaultHttp2HeadersEncoder().encodeHeaders(1, h, buf);
      headers = ByteBufUtil.getBytes(buf);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    } finally {
      buf.release();
    }
    for (String k :
        List.of(
            "slowloris connections",
            "rapid-reset connections",
            "rapid-reset pairs sent",
            "settings-flood connections",
            "settings frames sent",
            "ping-flood connections",
            "oversized HTTP requests",
            "oversized gRPC messages")) {
      counts.put(k, new AtomicLong());
    }
  }

  void start(List<String> which) {
    Map<String, Loop> loops = new TreeMap<>();
    loops.put("slowloris", this::slowloris);
    loops.put("rapid-reset", () -> h2Flood("rapid-reset", 1_000, true, 4));
    loops.put("settings", () -> h2Flood("settings-flood", 20_000, false, 4));
    loops.put("ping", () -> h2Flood("ping-flood", 20_000, false, 6));
    loops.put("oversized-http", this::oversizedHttp);
    loops.put("oversized-grpc", this::oversizedGrpc);
    which.forEach(name -> attack(name, loops.get(name)));
  }

  void stop() throws InterruptedException {
    running.set(false);
    for (Thread t : threads) {
      t.join(15_000);
    }
    if (oversizedChannel != null) {
      oversizedChannel.shutdownNow();
    }
  }

  String summary() {
    StringBuilder b = new StringBuilder("what the attackers did\n");
    counts.forEach(
        (k, v) -> {
          if (v.get() > 0) {
            b.append(String.format("  %-28s %,d%n", k, v.get()));
          }
        });
    return b.toString();
  }

  private void count(String key, long n) {
    counts.get(key).addAndGet(n);
  }

  private interface Loop {
    void once() throws Exception;
  }

  private void attack(String name, Loop loop) {
    Thread t =
        new Thread(
            () -> {
              while (running.get()) {
                try {
                  loop.once();
                } catch (Exception e) {
                  // the relay closed or refused it: the point of the attack; go again
                }
              }
            },
            "attack-" + name);
    t.setDaemon(true);
    threads.add(t);
    t.start();
  }

  /** Opens {@link #slowloris} connections and trickles one header byte every 500 ms. */
  private void slowloris() throws Exception {
    List<Socket> open = new ArrayList<>();
    try {
      for (int i = 0; i < slowloris && running.get(); i++) {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", httpPort), 5_000);
        open.add(s);
        count("slowloris connections", 1);
      }
      byte[] head =
          "POST /v1/traces HTTP/1.1\r\nHost: x\r\nX-Slow: ".getBytes(StandardCharsets.US_ASCII);
      for (int k = 0; running.get(); k++) {
        for (Socket s : open) {
          try {
            s.getOutputStream().write(k < head.length ? head[k] : 'a');
          } catch (IOException closed) {
            // read_header_timeout ended it; the next round opens new ones
          }
        }
        Thread.sleep(500);
        if (k > 40) {
          break;
        }
      }
    } finally {
      for (Socket s : open) {
        s.close();
      }
    }
  }

  /**
   * One connection: preface, then {@code n} HEADERS+RST_STREAM pairs ({@code rapidReset}) or {@code
   * n} frames of {@code type} (SETTINGS 4, PING 6), while a thread drains what the relay answers.
   */
  private void h2Flood(String name, int n, boolean rapidReset, int type) throws Exception {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", grpcPort), 5_000);
      s.setSoTimeout(10_000);
      count(name + " connections", 1);
      Thread drain =
          new Thread(
              () -> {
                try (InputStream in = s.getInputStream()) {
                  byte[] b = new byte[8192];
                  while (in.read(b) >= 0) {
                    // discard
                  }
                } catch (IOException closed) {
                  // done
                }
              },
              "attack-drain");
      drain.setDaemon(true);
      drain.start();
      OutputStream out = new BufferedOutputStream(s.getOutputStream(), 64 * 1024);
      out.write(PREFACE);
      frame(out, 4, 0, 0, new byte[0]);
      for (int i = 0; i < n && running.get(); i++) {
        if (rapidReset) {
          int stream = 2 * i + 1;
          frame(out, 1, 0x4, stream, headers);
          frame(out, 3, 0, stream, new byte[] {0, 0, 0, 8});
          count("rapid-reset pairs sent", 1);
        } else {
          frame(out, type, 0, 0, type == 6 ? new byte[8] : new byte[0]);
          if (type == 4) {
            count("settings frames sent", 1);
          }
        }
        if (i % 100 == 99) {
          out.flush();
        }
      }
      out.flush();
      drain.join(5_000);
    }
  }

  private static void frame(OutputStream out, int type, int flags, int stream, byte[] payload)
      throws IOException {
    int len = payload.length;
    out.write(new byte[] {(byte) (len >>> 16), (byte) (len >>> 8), (byte) len});
    out.write(type);
    out.write(flags);
    out.write(new byte[] {(byte) (stream >>> 24), (byte) (stream >>> 16), (byte) (stream >>> 8)});
    out.write(stream);
    out.write(payload);
  }

  /** A request declaring 100 MiB: refused with 413 before its body is read. */
  private void oversizedHttp() throws Exception {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", httpPort), 5_000);
      s.setSoTimeout(10_000);
      s.getOutputStream()
          .write(
              ("POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
                      + "Content-Length: 104857600\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().write(new byte[64 * 1024]);
      s.getInputStream().read(new byte[512]);
      count("oversized HTTP requests", 1);
    }
  }

  private ManagedChannel oversizedChannel;

  /** One message over the 4 MiB limit, shared (the attack is the relay's cost, not ours). */
  private static final byte[] OVERSIZED = new byte[4 * 1024 * 1024 + 1];

  /** A gRPC message of 4 MiB + 1: RESOURCE_EXHAUSTED. */
  private void oversizedGrpc() throws Exception {
    if (oversizedChannel == null) {
      oversizedChannel =
          NettyChannelBuilder.forAddress("127.0.0.1", grpcPort).usePlaintext().build();
    }
    try {
      ClientCalls.blockingUnaryCall(
          oversizedChannel,
          HostileClientsBench.exportMethod(),
          CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS),
          OVERSIZED);
    } catch (StatusRuntimeException expected) {
      // RESOURCE_EXHAUSTED
    }
    count("oversized gRPC messages", 1);
  }
}
