/**
 * Alerting inside the relay: rules in Prometheus's shape ({@link io.otlp4j.relay.alert.AlertRule},
 * read from {@code service.telemetry.alerts} by {@link io.otlp4j.relay.alert.AlertsConfig}), an
 * expression parser and evaluator for the subset of PromQL the rules need, the {@link
 * io.otlp4j.relay.alert.AlertEvaluator} that runs them over the relay's own metrics with
 * Prometheus's pending/firing/resolved states and publishes {@code ALERTS}, notifications to an
 * Alertmanager and to webhooks, the {@link io.otlp4j.relay.alert.DefaultRules} and the {@link
 * io.otlp4j.relay.alert.RulesFile} that prints rules for a Prometheus.
 */
package io.otlp4j.relay.alert;
