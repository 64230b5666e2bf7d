/**
 * The durable write-ahead queue: append-only segment files of CRC32C-framed records, group commit
 * (one write and one force for many concurrent appends), per-consumer checkpoints, recovery that
 * truncates a torn tail, and a bound on disk with a retryable refusal or drop-oldest. Start at
 * {@link io.otlp4j.queue.DurableQueue}.
 */
package io.otlp4j.queue;
