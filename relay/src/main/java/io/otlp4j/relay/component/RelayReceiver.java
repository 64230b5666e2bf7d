package io.otlp4j.relay.component;

import java.time.Duration;

/** A receiver started by its factory ({@link ReceiverFactory#start}). Thread-safe. */
public interface RelayReceiver {

  /**
   * Stops taking data and waits, until {@code deadline}, for what it handed to the pipelines to be
   * answered; blocks. Later calls return at once.
   *
   * @return whether everything handed on was answered in time
   */
  boolean shutdown(Duration deadline);

  /** One line saying what it reads, such as {@code Kafka receiver kafka consuming ...}. */
  String describe();
}
