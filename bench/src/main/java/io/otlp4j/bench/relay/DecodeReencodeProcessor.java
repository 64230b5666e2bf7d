package io.otlp4j.bench.relay;

import com.google.protobuf.InvalidProtocolBufferException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.otlp4j.relay.component.ComponentContext;
import io.otlp4j.relay.component.ProcessorFactory;
import io.otlp4j.relay.component.RelayProcessor;
import io.otlp4j.relay.config.ConfigNode;
import io.otlp4j.relay.config.ConfigReader;
import io.otlp4j.relay.config.ProcessorConfig;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.WalkSummary;
import io.otlp4j.wire.WireFormatException;

/**
 * {@link DecodeReencodeSink}'s decode → re-encode as a relay processor ({@code decode_reencode}),
 * so that the naive relay can run in every ack mode: the otlp4j relay, with every request parsed
 * into protobuf-java's object tree and encoded again before it is queued. The naive middle of
 * {@link PassThroughMiddle} uses it for the ack modes other than {@code received}.
 *
 * <p><b>Buffer ownership:</b> {@link #process} takes ownership of the request and releases it once
 * decoded; the re-encoded bytes are forwarded in a new heap buffer owned by the caller.
 *
 * <p>Thread-safe (stateless).
 */
final class DecodeReencodeProcessor implements RelayProcessor {

  /** The processor's type name in the relay's configuration. */
  static final String TYPE = "decode_reencode";

  private final String id;

  DecodeReencodeProcessor(String id) {
    this.id = id;
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public Result process(Signal signal, ByteBuf request, WalkSummary summary) {
    byte[] reencoded;
    try {
      reencoded = DecodeReencodeSink.decode(signal, request).toByteArray();
    } catch (InvalidProtocolBufferException e) {
      throw new WireFormatException(
          0, "protobuf-java could not decode the request: " + e.getMessage(), e);
    } finally {
      request.release();
    }
    return RelayProcessor.forward(Unpooled.wrappedBuffer(reencoded), summary);
  }

  /** Its configuration: nothing but the id. */
  record Config(String id) implements ProcessorConfig {}

  /** The {@code decode_reencode} processor type. */
  static final class Factory implements ProcessorFactory<Config> {
    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public Config read(String id, ConfigNode node, String where, ConfigReader in) {
      return new Config(id);
    }

    @Override
    public RelayProcessor create(Config config, ComponentContext context) {
      return new DecodeReencodeProcessor(config.id());
    }
  }
}
