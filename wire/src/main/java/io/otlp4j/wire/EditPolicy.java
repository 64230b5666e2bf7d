package io.otlp4j.wire;

/**
 * What {@link RequestEditor} does to each element of a request: keep it or drop it, and, through
 * {@link ElementView#attributes()}, change its attributes. The editor calls the method for each
 * element in the order the elements are encoded, an enclosing element before what it holds: a
 * resource, then for each of its scopes the scope, then its spans (each followed by its events and
 * links), metrics (each followed by its data points) or log records. What a dropped element holds
 * is not visited.
 *
 * <p>The {@link ElementView} passed in is positioned at the element only for the duration of the
 * call; {@link ElementView#parent()} reaches the enclosing ones. A policy that keeps everything and
 * changes no attributes leaves the request as it was. Every method's default keeps the element.
 *
 * <p>The editor calls a policy from the thread that called {@link RequestEditor#edit}, one element
 * at a time; a policy used by several threads at once must be thread-safe (a stateless one is). An
 * exception thrown by a policy ends the edit: it propagates to the caller, and nothing stays
 * allocated.
 */
public interface EditPolicy {
  /** What happens to an element. */
  enum Decision {
    KEEP,
    /** The element, and everything it holds, is left out of the edited request. */
    DROP
  }

  /**
   * Whether the editor calls this policy for elements of {@code kind} at all (default: for every
   * kind). Answering false for the kinds a policy has no use for lets the editor pass those
   * elements on, and what only they lead to, without looking inside: for a policy that visits only
   * spans, an unchanged span is one slice, its fields never read for events and links. Asked once
   * per edit; a kind not visited is kept.
   */
  default boolean visits(ElementView.Kind kind) {
    return true;
  }

  /** A {@code Resource*}'s resource; dropping it drops the whole {@code Resource*}. */
  default Decision resource(ElementView resource) {
    return Decision.KEEP;
  }

  /** A {@code Scope*}'s instrumentation scope; dropping it drops the whole {@code Scope*}. */
  default Decision scope(ElementView scope) {
    return Decision.KEEP;
  }

  default Decision span(ElementView span) {
    return Decision.KEEP;
  }

  default Decision spanEvent(ElementView event) {
    return Decision.KEEP;
  }

  default Decision spanLink(ElementView link) {
    return Decision.KEEP;
  }

  /** A metric, visited before its data points. */
  default Decision metric(ElementView metric) {
    return Decision.KEEP;
  }

  /** A data point of any kind: number (gauge, sum), histogram, exponential histogram or summary. */
  default Decision dataPoint(ElementView point) {
    return Decision.KEEP;
  }

  default Decision logRecord(ElementView record) {
    return Decision.KEEP;
  }
}
