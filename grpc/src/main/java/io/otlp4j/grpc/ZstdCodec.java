package io.otlp4j.grpc;

import com.github.luben.zstd.ZstdInputStreamNoFinalizer;
import com.github.luben.zstd.ZstdOutputStreamNoFinalizer;
import io.grpc.Codec;
import io.grpc.CompressorRegistry;
import io.grpc.DecompressorRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * The {@code zstd} message encoding for grpc-java (zstd-jni streams, level 3), and registries that
 * hold it beside gzip and identity. Stateless and thread-safe: every stream has its own native
 * context, freed on close.
 *
 * <p>Registered by both the exporter (client channels) and the receiver (server).
 */
public final class ZstdCodec implements Codec {

  /** The one instance. */
  public static final ZstdCodec INSTANCE = new ZstdCodec();

  /** The compression level. */
  public static final int LEVEL = 3;

  private ZstdCodec() {}

  @Override
  public String getMessageEncoding() {
    return "zstd";
  }

  @Override
  public OutputStream compress(OutputStream os) throws IOException {
    ZstdOutputStreamNoFinalizer out = new ZstdOutputStreamNoFinalizer(os, LEVEL);
    out.setCloseFrameOnFlush(false);
    return out;
  }

  @Override
  public InputStream decompress(InputStream is) throws IOException {
    return new ZstdInputStreamNoFinalizer(is);
  }

  /** gzip, identity and zstd. */
  public static CompressorRegistry compressors() {
    CompressorRegistry registry = CompressorRegistry.newEmptyInstance();
    registry.register(Codec.Identity.NONE);
    registry.register(new Codec.Gzip());
    registry.register(INSTANCE);
    return registry;
  }

  /** The default decompressors (gzip, identity) plus zstd, all advertised. */
  public static DecompressorRegistry decompressors() {
    return DecompressorRegistry.getDefaultInstance().with(INSTANCE, true);
  }
}
