package io.otlp4j.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.util.internal.PlatformDependent;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Reads of input bytes whose bounds the caller has already proven, from a heap array or from direct
 * memory, through one addressing scheme: an {@code (Object base, long offset)} pair, {@code base}
 * being the array (heap) or {@code null} (direct memory, {@code offset} an address). One code path
 * then serves both kinds of memory: the walker is compiled once, with neither a per-byte branch on
 * the kind of input nor the index and liveness checks of {@link ByteBuffer} or {@link ByteBuf}.
 *
 * <h2>Safety</h2>
 *
 * With {@link #UNSAFE} the reads are {@code sun.misc.Unsafe}'s and are not bounds-checked: every
 * caller reads only below an end it has checked against the input's length (the walker never reads
 * at or past the end of the message a byte belongs to, see {@code OtlpWalker}). Unsafe is used only
 * where Netty uses it ({@link PlatformDependent#hasUnsafe()}) on a platform with unaligned access,
 * and never when the system property {@value #UNSAFE_PROPERTY} is {@code false}. Without it, {@code
 * base} is always a {@code byte[]} and {@code offset} an index into it, read with the JVM's bounds
 * checks, and input in direct memory is first copied to an array (the build runs the walker's
 * bounds tests in that mode too, where an out-of-bounds read fails the test).
 *
 * <p>Stateless; all methods static and thread-safe.
 */
final class ByteAccess {
  /** System property; {@code false} turns the unchecked reads off (read checked arrays instead). */
  static final String UNSAFE_PROPERTY = "io.otlp4j.wire.unsafe";

  private static final sun.misc.Unsafe U = loadUnsafe();

  /** Whether reads are unchecked (Unsafe, heap and direct memory) or checked (arrays only). */
  static final boolean UNSAFE = U != null;

  /** What to add to an array index to get {@code offset} for {@code (array, offset)}. */
  static final long ARRAY_BASE = UNSAFE ? U.arrayBaseOffset(byte[].class) : 0;

  private static final VarHandle LONGS =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.nativeOrder());
  private static final VarHandle INTS =
      MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.nativeOrder());

  private ByteAccess() {}

  private static sun.misc.Unsafe loadUnsafe() {
    if (!Boolean.parseBoolean(System.getProperty(UNSAFE_PROPERTY, "true"))
        || !PlatformDependent.hasUnsafe()
        || !PlatformDependent.isUnaligned()) {
      return null;
    }
    try {
      Field field = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
      field.setAccessible(true);
      sun.misc.Unsafe unsafe = (sun.misc.Unsafe) field.get(null);
      return unsafe.arrayIndexScale(byte[].class) == 1 ? unsafe : null;
    } catch (ReflectiveOperationException | RuntimeException e) {
      return null;
    }
  }

  /** The byte at {@code offset}. */
  static byte get(Object base, long offset) {
    return UNSAFE ? U.getByte(base, offset) : ((byte[]) base)[(int) offset];
  }

  /** Eight bytes at {@code offset} in native order (the ASCII check does not care which). */
  static long getLong(Object base, long offset) {
    return UNSAFE ? U.getLong(base, offset) : (long) LONGS.get((byte[]) base, (int) offset);
  }

  /** Four bytes at {@code offset} in native order. */
  static int getInt(Object base, long offset) {
    return UNSAFE ? U.getInt(base, offset) : (int) INTS.get((byte[]) base, (int) offset);
  }

  /**
   * The input's bytes as a {@code (base, offset)} pair: {@link #base()} and {@link #offset()} of
   * its first byte. Held for one walk only; the memory stays the caller's.
   */
  static final class Input {
    private final Object base;
    private final long offset;

    private Input(Object base, long offset) {
      this.base = base;
      this.offset = offset;
    }

    Object base() {
      return base;
    }

    long offset() {
      return offset;
    }
  }

  /** {@code array[index, ...)}. */
  static Input of(byte[] array, int index) {
    return new Input(array, ARRAY_BASE + index);
  }

  /**
   * The readable bytes of {@code buf}, without a copy when they are one heap array or one region of
   * direct memory (with {@link #UNSAFE}); otherwise (a composite of several components, or direct
   * memory without Unsafe) a copy. The buffer's indexes and reference count are untouched; it must
   * stay readable while the returned input is used.
   */
  static Input of(ByteBuf buf) {
    int index = buf.readerIndex();
    int length = buf.readableBytes();
    if (buf.hasArray()) {
      return of(buf.array(), buf.arrayOffset() + index);
    }
    if (UNSAFE) {
      if (buf.hasMemoryAddress()) {
        return new Input(null, buf.memoryAddress() + index);
      }
      if (buf.nioBufferCount() == 1) {
        ByteBuffer nio = buf.nioBuffer(index, length);
        if (nio.isDirect()) {
          return new Input(null, PlatformDependent.directBufferAddress(nio) + nio.position());
        }
        if (nio.hasArray()) {
          return of(nio.array(), nio.arrayOffset() + nio.position());
        }
      }
    }
    return of(ByteBufUtil.getBytes(buf, index, length), 0);
  }

  /**
   * Index 0 of {@code buffer}, for reads at its absolute indexes ({@code offset() + index}), when
   * that needs no copy: a heap array, or direct memory with {@link #UNSAFE}; otherwise null.
   */
  static Input atIndexZero(ByteBuffer buffer) {
    if (buffer.hasArray()) {
      return of(buffer.array(), buffer.arrayOffset());
    }
    if (UNSAFE && buffer.isDirect()) {
      return new Input(null, PlatformDependent.directBufferAddress(buffer));
    }
    return null;
  }

  /**
   * The remaining bytes of {@code buffer} (its position and limit untouched), without a copy when
   * they are a writable heap array or direct memory (with {@link #UNSAFE}); otherwise a copy.
   */
  static Input of(ByteBuffer buffer) {
    int position = buffer.position();
    if (buffer.hasArray()) {
      return of(buffer.array(), buffer.arrayOffset() + position);
    }
    if (UNSAFE && buffer.isDirect()) {
      return new Input(null, PlatformDependent.directBufferAddress(buffer) + position);
    }
    byte[] copy = new byte[buffer.remaining()];
    buffer.duplicate().get(copy);
    return of(copy, 0);
  }
}
