package io.otlp4j.exporter;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.DefaultEventLoopGroup;
import io.netty.channel.local.LocalChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.otlp4j.testing.NettyLeakCheck;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The exchange of one pooled connection on the paths where it cannot run. */
@ExtendWith(NettyLeakCheck.class)
class HttpConnectionTest {

  @Test
  void anEventLoopThatRefusesTheExchangeReleasesTheRequestAndFailsTheExchange() throws Exception {
    DefaultEventLoopGroup group = new DefaultEventLoopGroup(1);
    LocalChannel channel = new LocalChannel();
    group.register(channel).sync();
    group
        .shutdownGracefully(0, 0, TimeUnit.SECONDS)
        .sync(); // execute() now throws RejectedExecutionException
    HttpConnection connection = new HttpConnection(channel, null);
    FullHttpRequest request =
        new DefaultFullHttpRequest(
            HttpVersion.HTTP_1_1, HttpMethod.POST, "/v1/traces", Unpooled.buffer(16).writeZero(16));
    CompletableFuture<String> failure = new CompletableFuture<>();

    connection.execute(
        request,
        TimeUnit.SECONDS.toNanos(5),
        new HttpConnection.Exchange() {
          @Override
          public void onResponse(
              FullHttpResponse response, byte[] body, boolean connectionReusable) {
            failure.completeExceptionally(new AssertionError("a response without a request"));
          }

          @Override
          public void onFailure(String what, Throwable cause, boolean timedOut) {
            failure.complete(what);
          }
        });

    assertThat(failure).isCompletedWithValueMatching(what -> what.contains("shutting down"));
    assertThat(request.refCnt()).isZero();
    assertThat(connection.isReusable()).isFalse();
  }
}
