/**
 * Test utilities shared with every module through the wire test-jar ({@code <type>test-jar</type>}
 * of {@code otlp4j-wire}).
 *
 * <ul>
 *   <li>{@link io.otlp4j.wire.testing.OtlpGenerator}: seeded random OTLP requests (official
 *       opentelemetry-proto messages) that cover every field, oneof case and enum value of the
 *       three signals, with optional unknown fields; {@code withoutUnknownFields} strips them; and
 *       deterministic realistic payloads ({@code realisticTraces/Metrics/Logs}) for benchmarks.
 *   <li>{@link io.otlp4j.wire.testing.Mutator}: seeded byte-level and protobuf-structure-aware
 *       damage (lying lengths, over-long varints, wrong wire types, deep nesting…) for robustness
 *       tests, and {@code deeplyNestedAnyValue(signal, depth)}.
 *   <li>{@link io.otlp4j.wire.testing.AllocationMeter}: bytes the current thread allocates around a
 *       call.
 * </ul>
 *
 * <p>A typical robustness loop: generate with {@code new OtlpGenerator(seed).request(signal)},
 * encode, {@code mutator.mutate(bytes)}, and assert that the code under test either succeeds or
 * throws {@link io.otlp4j.wire.WireFormatException}, with {@code
 * AllocationMeter.allocatedBytes(...)} bounded by a multiple of the input. None of these classes is
 * thread-safe except AllocationMeter.
 */
package io.otlp4j.wire.testing;
