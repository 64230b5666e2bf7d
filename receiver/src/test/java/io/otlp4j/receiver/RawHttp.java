package io.otlp4j.receiver;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * A plain-socket HTTP/1.1 client for requests no well-behaved client sends (a huge declared length,
 * an endless chunked body). Reads one response: status line, headers and a Content-Length body.
 */
final class RawHttp implements AutoCloseable {

  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;

  RawHttp(InetSocketAddress address) throws IOException {
    socket = new Socket();
    socket.connect(address, 5000);
    socket.setSoTimeout(10_000);
    in = socket.getInputStream();
    out = socket.getOutputStream();
  }

  /** Writes bytes; returns false when the server has closed its side (the write failed). */
  boolean write(byte[] bytes) {
    try {
      out.write(bytes);
      out.flush();
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  boolean write(String ascii) {
    return write(ascii.getBytes(StandardCharsets.US_ASCII));
  }

  /** Reads one response; returns its head (status line and headers, lower-cased names) and body. */
  Response read() throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int matched = 0;
    while (matched < 4) {
      int b = in.read();
      if (b < 0) {
        throw new IOException("connection closed after " + head.size() + " bytes of response head");
      }
      head.write(b);
      matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
    }
    String text = head.toString(StandardCharsets.US_ASCII);
    int length = 0;
    for (String line : text.split("\r\n")) {
      if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
        length = Integer.parseInt(line.substring("content-length:".length()).trim());
      }
    }
    byte[] body = in.readNBytes(length);
    return new Response(text, body);
  }

  /**
   * Whether the server closes the connection: reads (and drops) at most 64 KiB until the end of the
   * stream or a reset, before the read timeout.
   */
  boolean closedByServer() {
    try {
      for (int i = 0; i < 64 * 1024; i++) {
        if (in.read() < 0) {
          return true;
        }
      }
      return false;
    } catch (IOException e) {
      return true;
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }

  record Response(String head, byte[] body) {
    int status() {
      return Integer.parseInt(head.substring(9, 12));
    }
  }
}
