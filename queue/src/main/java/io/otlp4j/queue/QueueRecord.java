package io.otlp4j.queue;

import io.netty.buffer.ByteBuf;

/**
 * One record read by {@link QueueConsumer#poll(int, long)}.
 *
 * <p><b>Buffer ownership:</b> {@code payload} belongs to the caller of {@code poll}, who must
 * release it exactly once.
 *
 * @param position the log offset just past this record; commit it with {@link
 *     QueueConsumer#commit(long)} once the record is done
 * @param kind the kind byte given to {@link DurableQueue#append} (the relay stores the signal)
 * @param itemCount the item count given to {@code append}
 * @param appendedAtMillis when the record was appended (wall clock, epoch milliseconds)
 * @param payload the appended bytes, exactly as given
 */
public record QueueRecord(
    long position, byte kind, long itemCount, long appendedAtMillis, ByteBuf payload) {}
