package io.otlp4j.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.rpc.ErrorInfo;
import com.google.rpc.RetryInfo;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The hand-written {@code google.rpc.Status} codec, checked against the official classes both ways.
 */
class RpcStatusTest {

  @Test
  void statusWithRetryInfoParsesWithTheOfficialClasses() throws Exception {
    com.google.rpc.Status status =
        com.google.rpc.Status.parseFrom(
            RpcStatus.encode(8, "memory limit reached", Duration.ofMillis(2300)));
    assertThat(status.getCode()).isEqualTo(8);
    assertThat(status.getMessage()).isEqualTo("memory limit reached");
    RetryInfo info = status.getDetails(0).unpack(RetryInfo.class);
    assertThat(info.getRetryDelay().getSeconds()).isEqualTo(2);
    assertThat(info.getRetryDelay().getNanos()).isEqualTo(300_000_000);
  }

  @Test
  void statusWithoutDelayHasNoDetails() throws Exception {
    com.google.rpc.Status status =
        com.google.rpc.Status.parseFrom(RpcStatus.encode(3, "bad", null));
    assertThat(status.getCode()).isEqualTo(3);
    assertThat(status.getDetailsCount()).isZero();
    assertThat(RpcStatus.retryDelayNanos(RpcStatus.encode(3, "bad", null))).isEqualTo(-1);
  }

  @Test
  void whatIsEncodedReadsBack() {
    byte[] status = RpcStatus.encode(8, "slow down \u00e9", Duration.ofSeconds(3, 250));
    assertThat(RpcStatus.message(status)).isEqualTo("slow down \u00e9");
    assertThat(RpcStatus.retryDelayNanos(status)).isEqualTo(3_000_000_250L);
    assertThat(RpcStatus.trailers(8, "x", Duration.ZERO).get(RpcStatus.DETAILS_KEY))
        .isEqualTo(RpcStatus.encode(8, "x", Duration.ZERO));
  }

  @Test
  void retryInfoIsFoundAmongOtherStatusDetails() {
    byte[] status =
        com.google.rpc.Status.newBuilder()
            .setCode(8)
            .setMessage("slow down")
            .addDetails(Any.pack(ErrorInfo.newBuilder().setReason("QUOTA").build()))
            .addDetails(
                Any.pack(
                    RetryInfo.newBuilder()
                        .setRetryDelay(
                            com.google.protobuf.Duration.newBuilder()
                                .setSeconds(2)
                                .setNanos(500_000_000))
                        .build()))
            .build()
            .toByteArray();

    assertThat(RpcStatus.retryDelayNanos(status)).isEqualTo(2_500_000_000L);
    assertThat(RpcStatus.message(status)).isEqualTo("slow down");
  }

  @Test
  void noRetryInfoMeansNoDelay() {
    byte[] status =
        com.google.rpc.Status.newBuilder()
            .setCode(8)
            .addDetails(Any.pack(ErrorInfo.newBuilder().setReason("QUOTA").build()))
            .build()
            .toByteArray();
    assertThat(RpcStatus.retryDelayNanos(status)).isEqualTo(-1);
    assertThat(RpcStatus.retryDelayNanos(null)).isEqualTo(-1);
    assertThat(RpcStatus.retryDelayNanos(new byte[] {0x1a, 0x05})).isEqualTo(-1);
    assertThat(RpcStatus.message(new byte[] {0x12, 0x7f})).isEmpty();
  }
}
