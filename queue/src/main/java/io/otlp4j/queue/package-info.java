/** The durable write-ahead queue: segment files, group commit, per-consumer checkpoints, recovery. */
package io.otlp4j.queue;
