package io.otlp4j.relay.cli;

import io.otlp4j.wire.Compression;
import io.otlp4j.wire.OtlpJson;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.SignalDetector;
import io.otlp4j.wire.WireFormatException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * One OTLP export request as the commands read it: from a file or standard input, OTLP/JSON or
 * protobuf, plain or gzip/zstd compressed (recognised by their magic bytes), with its signal given
 * or detected.
 */
final class Payload {
  /**
   * The most a command reads or decompresses: a guard against a compression bomb on the command
   * line.
   */
  static final long MAX_BYTES = 1L << 30;

  enum Format {
    JSON,
    PROTOBUF
  }

  final String name;
  final Format format;
  final Compression compression;
  final Signal signal;

  /** The bytes as read, before decompression. */
  final long inputBytes;

  /** The payload, decompressed, in its own format. */
  final byte[] bytes;

  private Payload(
      String name,
      Format format,
      Compression compression,
      Signal signal,
      long inputBytes,
      byte[] bytes) {
    this.name = name;
    this.format = format;
    this.compression = compression;
    this.signal = signal;
    this.inputBytes = inputBytes;
    this.bytes = bytes;
  }

  static Payload read(String file, Signal givenSignal, InputStream stdin) throws IOException {
    String name = "-".equals(file) ? "<stdin>" : file;
    byte[] raw;
    if ("-".equals(file)) {
      raw = readBounded(stdin, name);
    } else {
      try (InputStream in = Files.newInputStream(Path.of(file))) {
        raw = readBounded(in, name);
      } catch (NoSuchFileException e) {
        throw new IOException(name + ": no such file");
      }
    }
    Compression compression = compressionOf(raw);
    byte[] bytes = raw;
    if (compression != Compression.NONE) {
      try {
        bytes = compression.decompress(raw, MAX_BYTES);
      } catch (WireFormatException e) {
        throw new BadInputException(name + ": " + compression.encoding() + ": " + e.getMessage());
      }
    }
    Format format = isJson(bytes) ? Format.JSON : Format.PROTOBUF;
    Signal signal = givenSignal;
    if (signal == null) {
      if (format == Format.JSON) {
        signal = OtlpJson.detectJsonSignal(bytes);
        if (signal == null) {
          throw new BadInputException(
              name
                  + ": cannot tell which signal this OTLP/JSON request holds;"
                  + " give it with --signal traces|metrics|logs");
        }
      } else {
        Set<Signal> candidates = SignalDetector.candidates(bytes);
        if (candidates.size() != 1) {
          throw new BadInputException(name + ": " + undecided(candidates));
        }
        signal = candidates.iterator().next();
      }
    }
    return new Payload(name, format, compression, signal, raw.length, bytes);
  }

  /**
   * Why a protobuf request's signal is not known: no signal reads it, or several read it equally
   * well.
   */
  private static String undecided(Set<Signal> candidates) {
    if (candidates.isEmpty()) {
      return "not a valid protobuf request of any signal (traces, metrics or logs); give the signal with"
          + " --signal traces|metrics|logs to see where it breaks";
    }
    return "this protobuf request could be "
        + candidates.stream().map(Signal::id).collect(Collectors.joining(" or "))
        + " (it has no item that tells them apart); give it with --signal "
        + candidates.stream().map(Signal::id).collect(Collectors.joining("|"));
  }

  /** The payload as an encoded protobuf export request (transcoded if it was JSON). */
  byte[] protobuf() {
    return format == Format.PROTOBUF ? bytes : OtlpJson.toProtobuf(signal, bytes);
  }

  private static Compression compressionOf(byte[] b) {
    if (b.length >= 2 && (b[0] & 0xFF) == 0x1F && (b[1] & 0xFF) == 0x8B) {
      return Compression.GZIP;
    }
    if (b.length >= 4
        && (b[0] & 0xFF) == 0x28
        && (b[1] & 0xFF) == 0xB5
        && (b[2] & 0xFF) == 0x2F
        && (b[3] & 0xFF) == 0xFD) {
      return Compression.ZSTD;
    }
    return Compression.NONE;
  }

  /**
   * OTLP/JSON is an object, so its first non-blank byte is '{'; a protobuf export request cannot
   * start with that byte (0x7B would be field 15 with the deprecated group wire type).
   */
  private static boolean isJson(byte[] b) {
    int i = 0;
    if (b.length >= 3 && (b[0] & 0xFF) == 0xEF && (b[1] & 0xFF) == 0xBB && (b[2] & 0xFF) == 0xBF) {
      i = 3; // a UTF-8 byte order mark
    }
    for (; i < b.length; i++) {
      byte x = b[i];
      if (x != ' ' && x != '\n' && x != '\r' && x != '\t') {
        return x == '{';
      }
    }
    return false;
  }

  private static byte[] readBounded(InputStream in, String name) throws IOException {
    byte[] bytes = in.readNBytes((int) Math.min(MAX_BYTES + 1, Integer.MAX_VALUE - 8));
    if (bytes.length > MAX_BYTES) {
      throw new BadInputException(name + ": larger than " + MAX_BYTES + " bytes");
    }
    return bytes;
  }
}
