package io.otlp4j.wire;

import io.netty.buffer.ByteBuf;

/**
 * What {@link RequestEditor#editCounted} returns: the edited request and, when the editor saw every
 * item it kept, the counts of the output.
 *
 * <p><b>Buffer ownership:</b> the caller owns {@link #request()} and must release it.
 */
public final class EditedRequest {
  private final ByteBuf request;
  private final WalkSummary summary;

  EditedRequest(ByteBuf request, WalkSummary summary) {
    this.request = request;
    this.summary = summary;
  }

  /** The edited request; owned by the caller. */
  public ByteBuf request() {
    return request;
  }

  /**
   * The output's counts, as {@link OtlpWalker#walk} would give them; {@code null} when the policy
   * did not visit every item (metrics, or a policy of resources and scopes only): walk it then.
   */
  public WalkSummary summary() {
    return summary;
  }
}
