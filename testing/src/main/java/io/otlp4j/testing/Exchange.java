package io.otlp4j.testing;

/**
 * One request waiting for its answer, as a transport front end holds it. Called by one thread at a
 * time.
 */
interface Exchange {

  /** True when the client gave up on the request (a cancelled gRPC call). */
  boolean isCancelled();

  /** Sends {@code answer} (of kind RESPOND) for {@code request}; throws if it could not be sent. */
  void respond(Answer answer, RecordedRequest request) throws Exception;

  /** Closes the connection the request came on, without an answer. */
  void dropConnection();
}
