package io.otlp4j.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;
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
}
