package io.otlp4j.receiver;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersEncoder;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A hostile HTTP/2 client on a plain socket: writes whatever frames a test asks for (the client
 * preface and an empty SETTINGS first), and reads the server's frames on its own thread, recording
 * the {@code GOAWAY} the server sends and when the server closes the connection. Nothing here
 * follows the protocol beyond framing: it is the attacker's side.
 */
final class RawHttp2 implements AutoCloseable {

  static final int DATA = 0;
  static final int HEADERS = 1;
  static final int PRIORITY = 2;
  static final int RST_STREAM = 3;
  static final int SETTINGS = 4;
  static final int PING = 6;
  static final int GOAWAY = 7;
  static final int WINDOW_UPDATE = 8;
  static final int CONTINUATION = 9;

  static final int ACK = 0x1;
  static final int END_STREAM = 0x1;
  static final int END_HEADERS = 0x4;

  /** HTTP/2 error codes. */
  static final long ENHANCE_YOUR_CALM = 0xb;

  private static final byte[] PREFACE =
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  private final Socket socket;
  private final OutputStream out;
  private final Thread reader;
  private final CountDownLatch closed = new CountDownLatch(1);
  private final AtomicLong framesRead = new AtomicLong();
  private volatile long goAwayError = -1;
  private volatile String goAwayDebug = "";
  private volatile boolean writeFailed;
  private final Http2HeadersEncoder encoder = new DefaultHttp2HeadersEncoder();

  /** Connects and, when {@code preface}, writes the client preface and an empty SETTINGS frame. */
  RawHttp2(InetSocketAddress address, boolean preface, boolean readServerFrames)
      throws IOException {
    this(connect(address, readServerFrames), preface, readServerFrames);
  }

  /**
   * Speaks on {@code connected} (a TLS socket, say, whose handshake negotiated {@code h2}) and,
   * when {@code preface}, writes the client preface and an empty SETTINGS frame.
   */
  RawHttp2(Socket connected, boolean preface, boolean readServerFrames) throws IOException {
    socket = connected;
    socket.setTcpNoDelay(true);
    out = new BufferedOutputStream(socket.getOutputStream(), 64 * 1024);
    if (preface) {
      out.write(PREFACE);
      frame(SETTINGS, 0, 0, new byte[0]);
      flush();
    }
    if (readServerFrames) {
      reader = new Thread(this::readFrames, "raw-h2-reader");
      reader.setDaemon(true);
      reader.start();
    } else {
      // A client that never reads: the server's writes pile up; its close shows as a failed write.
      reader = null;
    }
  }

  private static Socket connect(InetSocketAddress address, boolean readServerFrames)
      throws IOException {
    Socket socket = new Socket();
    if (!readServerFrames) {
      // A small receive window, so that the server's unread answers pile up in the server.
      socket.setReceiveBufferSize(1024);
    }
    socket.connect(address, 5_000);
    return socket;
  }

  RawHttp2(InetSocketAddress address) throws IOException {
    this(address, true, true);
  }

  /** The HPACK block of a gRPC request's headers for {@code path}, plus {@code extra}. */
  byte[] requestHeaders(String path, String... extra) throws Exception {
    Http2Headers h =
        new DefaultHttp2Headers()
            .method("POST")
            .scheme("http")
            .path(path)
            .authority("localhost")
            .add("content-type", "application/grpc")
            .add("te", "trailers");
    for (int i = 0; i < extra.length; i += 2) {
      h.add(extra[i], extra[i + 1]);
    }
    ByteBuf buf = Unpooled.buffer();
    try {
      encoder.encodeHeaders(1, h, buf);
      return ByteBufUtil.getBytes(buf);
    } finally {
      buf.release();
    }
  }

  /**
   * Writes one frame (buffered: call {@link #flush()}). Returns false once a write failed (the
   * server closed the connection).
   */
  boolean frame(int type, int flags, int streamId, byte[] payload) {
    if (writeFailed) {
      return false;
    }
    try {
      int len = payload.length;
      out.write(len >>> 16);
      out.write(len >>> 8);
      out.write(len);
      out.write(type);
      out.write(flags);
      out.write((streamId >>> 24) & 0x7f);
      out.write(streamId >>> 16);
      out.write(streamId >>> 8);
      out.write(streamId);
      out.write(payload);
      return true;
    } catch (IOException e) {
      writeFailed = true;
      return false;
    }
  }

  /** Writes raw bytes, flushed; false once a write failed. */
  boolean raw(byte[] bytes) {
    if (writeFailed) {
      return false;
    }
    try {
      out.write(bytes);
      out.flush();
      return true;
    } catch (IOException e) {
      writeFailed = true;
      return false;
    }
  }

  boolean rstStream(int streamId, int errorCode) {
    return frame(RST_STREAM, 0, streamId, int32(errorCode));
  }

  boolean flush() {
    if (writeFailed) {
      return false;
    }
    try {
      out.flush();
      return true;
    } catch (IOException e) {
      writeFailed = true;
      return false;
    }
  }

  static byte[] int32(int v) {
    return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
  }

  /** Whether a write failed: the server closed or reset the connection. */
  boolean writeFailed() {
    return writeFailed;
  }

  /** Whether the server closed the connection within {@code timeout} (reading mode only). */
  boolean awaitClosed(Duration timeout) throws InterruptedException {
    return closed.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** The error code of the server's GOAWAY, or -1 when none was read. */
  long goAwayError() {
    return goAwayError;
  }

  String goAwayDebug() {
    return goAwayDebug;
  }

  long framesRead() {
    return framesRead.get();
  }

  private void readFrames() {
    try {
      DataInputStream in = new DataInputStream(socket.getInputStream());
      byte[] header = new byte[9];
      while (true) {
        in.readFully(header);
        int len = ((header[0] & 0xff) << 16) | ((header[1] & 0xff) << 8) | (header[2] & 0xff);
        int type = header[3] & 0xff;
        byte[] payload = new byte[len];
        in.readFully(payload);
        framesRead.incrementAndGet();
        if (type == GOAWAY && len >= 8) {
          goAwayError =
              ((payload[4] & 0xffL) << 24)
                  | ((payload[5] & 0xffL) << 16)
                  | ((payload[6] & 0xffL) << 8)
                  | (payload[7] & 0xffL);
          goAwayDebug = new String(payload, 8, len - 8, StandardCharsets.UTF_8);
        }
      }
    } catch (EOFException | SocketException e) {
      // the server closed (or reset) the connection, or we did
    } catch (IOException e) {
      // likewise
    } finally {
      closed.countDown();
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
    if (reader == null) {
      return;
    }
    try {
      reader.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
