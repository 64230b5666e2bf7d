package io.otlp4j.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class OtlpRetryabilityTest {

  private static final Set<Integer> RETRYABLE_GRPC = Set.of(1, 4, 10, 11, 14, 15);
  private static final int RESOURCE_EXHAUSTED = 8;

  @ParameterizedTest(name = "gRPC code {0}")
  @ValueSource(ints = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
  void everyGrpcCodeIsClassifiedPerTheOtlpSpec(int code) {
    boolean expected = RETRYABLE_GRPC.contains(code);
    boolean withRetryInfo = expected || code == RESOURCE_EXHAUSTED;
    assertThat(OtlpRetryability.isRetryableGrpcStatus(code, false)).isEqualTo(expected);
    assertThat(OtlpRetryability.isRetryableGrpcStatus(code, true)).isEqualTo(withRetryInfo);
  }

  @ParameterizedTest(name = "HTTP {0} is retryable")
  @ValueSource(ints = {429, 502, 503, 504})
  void retryableHttpStatuses(int status) {
    assertThat(OtlpRetryability.isRetryableHttpStatus(status)).isTrue();
  }

  @ParameterizedTest(name = "HTTP {0} is not retryable")
  @ValueSource(ints = {200, 204, 400, 401, 403, 404, 408, 413, 415, 500, 501, 505})
  void otherHttpStatusesAreNotRetryable(int status) {
    assertThat(OtlpRetryability.isRetryableHttpStatus(status)).isFalse();
  }

  @ParameterizedTest(name = "gRPC code {0} verdict")
  @ValueSource(ints = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
  void grpcVerdictFollowsTheClassificationAndHonoursRetryInfo(int code) {
    Retrier.Verdict without = OtlpRetryability.grpcVerdict(code, -1);
    Retrier.Verdict with = OtlpRetryability.grpcVerdict(code, 7);
    if (code == 0) {
      assertThat(without).isSameAs(Retrier.Verdict.SUCCESS);
      assertThat(with).isSameAs(Retrier.Verdict.SUCCESS);
      return;
    }
    assertThat(without.isRetryable()).isEqualTo(RETRYABLE_GRPC.contains(code));
    assertThat(without.serverDelayNanos()).isEqualTo(-1);
    assertThat(with.isRetryable()).isEqualTo(RETRYABLE_GRPC.contains(code) || code == 8);
    if (with.isRetryable()) {
      assertThat(with.serverDelayNanos()).isEqualTo(7);
    }
  }

  @Test
  void httpVerdictUsesRetryAfterOnlyForRetryableStatuses() {
    assertThat(OtlpRetryability.httpVerdict(200, null, 0)).isSameAs(Retrier.Verdict.SUCCESS);
    assertThat(OtlpRetryability.httpVerdict(204, "5", 0)).isSameAs(Retrier.Verdict.SUCCESS);
    assertThat(OtlpRetryability.httpVerdict(400, "5", 0)).isSameAs(Retrier.Verdict.PERMANENT);
    assertThat(OtlpRetryability.httpVerdict(500, "5", 0)).isSameAs(Retrier.Verdict.PERMANENT);
    assertThat(OtlpRetryability.httpVerdict(503, null, 0)).isSameAs(Retrier.Verdict.RETRYABLE);
    assertThat(OtlpRetryability.httpVerdict(503, "soon", 0)).isSameAs(Retrier.Verdict.RETRYABLE);
    Retrier.Verdict v = OtlpRetryability.httpVerdict(429, "2", 0);
    assertThat(v.isRetryable()).isTrue();
    assertThat(v.serverDelayNanos()).isEqualTo(2_000_000_000L);
  }
}
