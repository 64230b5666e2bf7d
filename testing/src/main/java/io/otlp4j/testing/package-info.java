/**
 * Test support shared by the otlp4j modules (used with test scope, never shipped): {@link
 * io.otlp4j.testing.MockOtlpServer}, a scriptable fake OTLP receiver over gRPC and HTTP, and {@link
 * io.otlp4j.testing.NettyLeakCheck}, a JUnit 5 extension that fails tests on Netty leak reports,
 * and {@link io.otlp4j.testing.KafkaBroker}, a real Apache Kafka broker (KRaft) in a child JVM.
 */
package io.otlp4j.testing;
