package io.otlp4j.relay.component;

import static org.assertj.core.api.Assertions.assertThat;

import io.otlp4j.relay.component.TailSamplingProcessorFactory.TailSamplingConfig;
import io.otlp4j.relay.config.RelayConfig;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code tail_sampling}'s configuration: the Collector's defaults, the README's examples (endpoints
 * aside), and errors that name their line.
 */
class TailSamplingConfigTest {

  /**
   * The Collector README's first example, with the policy types otlp4j does not have removed
   * ({@code trace_state}, {@code bytes_limiting}, {@code ottl_condition}, {@code composite}).
   */
  static final String README_SUPPORTED =
      """
      decision_wait: 10s
      num_traces: 100
      expected_new_traces_per_sec: 10
      decision_cache:
        sampled_cache_size: 100_000
        non_sampled_cache_size: 100_000
      policies:
        [
            {
              name: test-policy-1,
              type: always_sample
            },
            {
              name: test-policy-2,
              type: latency,
              latency: {threshold_ms: 5000, upper_threshold_ms: 10000}
            },
            {
              name: test-policy-3,
              type: numeric_attribute,
              numeric_attribute: {key: key1, min_value: 50, max_value: 100}
            },
            {
              name: test-policy-4,
              type: probabilistic,
              probabilistic: {sampling_percentage: 10}
            },
            {
              name: test-policy-5,
              type: status_code,
              status_code: {status_codes: [ERROR, UNSET]}
            },
            {
              name: test-policy-6,
              type: string_attribute,
              string_attribute: {key: key2, values: [value1, value2]}
            },
            {
              name: test-policy-7,
              type: string_attribute,
              string_attribute: {key: key2, values: [value1, val*], enabled_regex_matching: true, cache_max_size: 10}
            },
            {
              name: test-policy-8,
              type: rate_limiting,
              rate_limiting: {spans_per_second: 35}
           },
           {
              name: test-policy-10,
              type: span_count,
              span_count: {min_spans: 2, max_spans: 20}
           },
           {
                name: test-policy-12,
                type: boolean_attribute,
                boolean_attribute: {key: key4, value: true}
           },
           {
              name: and-policy-1,
              type: and,
              and: {
                and_sub_policy:
                [
                  {
                    name: test-and-policy-1,
                    type: numeric_attribute,
                    numeric_attribute: { key: key1, min_value: 50, max_value: 100 }
                  },
                  {
                      name: test-and-policy-2,
                      type: string_attribute,
                      string_attribute: { key: key2, values: [ value1, value2 ] }
                  },
                ]
              }
           },
           {
              name: drop-policy-1,
              type: drop,
              drop: {
                drop_sub_policy:
                [
                  {
                      name: test-drop-policy-1,
                      type: string_attribute,
                      string_attribute: {key: url.path, values: [\\/health, \\/metrics], enabled_regex_matching: true}
                  }
                ]
              }
           },
        ]
      """;

  static TailSamplingConfig read(String body) throws Exception {
    RelayConfig c = ProcessorHarness.parse(ProcessorHarness.config("tail_sampling", body));
    return (TailSamplingConfig) c.processors().get("tail_sampling");
  }

  @Test
  void defaultsAreTheCollectors() throws Exception {
    TailSamplingConfig c = read("policies: [{ name: all, type: always_sample }]\n");
    assertThat(c.decisionWait()).isEqualTo(Duration.ofSeconds(30));
    assertThat(c.numTraces()).isEqualTo(50_000);
    assertThat(c.expectedNewTracesPerSec()).isZero();
    assertThat(c.sampledCacheSize()).isZero();
    assertThat(c.nonSampledCacheSize()).isZero();
    assertThat(c.sampleOnFirstMatch()).isFalse();
  }

  @Test
  void theReadmeExampleLoadsWithDropPoliciesFirst() throws Exception {
    TailSamplingConfig c = read(README_SUPPORTED);
    assertThat(c.decisionWait()).isEqualTo(Duration.ofSeconds(10));
    assertThat(c.numTraces()).isEqualTo(100);
    assertThat(c.sampledCacheSize()).isEqualTo(100_000);
    assertThat(c.nonSampledCacheSize()).isEqualTo(100_000);
    assertThat(c.policyLabels())
        .containsExactly(
            "drop-policy-1",
            "test-policy-1",
            "test-policy-2",
            "test-policy-3",
            "test-policy-4",
            "test-policy-5",
            "test-policy-6",
            "test-policy-7",
            "test-policy-8",
            "test-policy-10",
            "test-policy-12",
            "and-policy-1");
  }

  @Test
  void theFullReadmeExampleNamesTheUnsupportedPolicyTypesWithTheirLines() {
    String full =
        README_SUPPORTED.replace(
            "policies:\n  [\n",
            "policies:\n  [\n"
                + "    { name: test-policy-9, type: bytes_limiting,"
                + " bytes_limiting: {bytes_per_second: 1024000, burst_capacity: 2048000} },\n"
                + "    { name: test-policy-11, type: trace_state,"
                + " trace_state: { key: key3, values: [value1, value2] } },\n");
    assertThat(full).contains("trace_state");
    List<String> errors = ProcessorHarness.errors("tail_sampling", full);
    assertThat(errors)
        .anySatisfy(
            e ->
                assertThat(e)
                    .contains("policies[0].type")
                    .contains("line 15")
                    .contains("'bytes_limiting' is not supported by otlp4j")
                    .containsPattern("line \\d+"))
        .anySatisfy(e -> assertThat(e).contains("'trace_state' is not supported by otlp4j"));
  }

  @Test
  void errorsNameTheirLine() {
    assertThat(
            ProcessorHarness.errors(
                "tail_sampling",
                """
                decision_wait: soon
                num_traces: 0
                policies:
                  - { name: a, type: status_code, status_code: { status_codes: [BAD] } }
                  - { name: a, type: always_sample }
                  - { name: n, type: numeric_attribute, numeric_attribute: { key: k } }
                  - { name: s, type: string_attribute, string_attribute: { key: k, value: x } }
                  - { name: r, type: string_attribute, string_attribute: { key: k, values: ["("], enabled_regex_matching: true } }
                  - { name: u, type: sometimes }
                  - { name: d, type: drop, drop: { drop_sub_policy: [{ name: x, type: and }] } }
                """))
        .anySatisfy(e -> assertThat(e).contains("line 7").contains("decision_wait"))
        .anySatisfy(e -> assertThat(e).contains("line 8").contains("num_traces"))
        .anySatisfy(e -> assertThat(e).contains("line 10").contains("unknown status code 'BAD'"))
        .anySatisfy(e -> assertThat(e).contains("line 11").contains("duplicate policy name 'a'"))
        .anySatisfy(
            e ->
                assertThat(e)
                    .contains("line 12")
                    .contains("at least one of min_value or max_value"))
        .anySatisfy(e -> assertThat(e).contains("line 13").contains("unknown key 'value'"))
        .anySatisfy(e -> assertThat(e).contains("line 14").contains("not a regular expression"))
        .anySatisfy(e -> assertThat(e).contains("line 15").contains("unknown sampling policy type"))
        .anySatisfy(
            e -> assertThat(e).contains("line 16").contains("'and' cannot be a sub-policy"));
    assertThat(ProcessorHarness.errors("tail_sampling", "decision_wait: 1s\n"))
        .anySatisfy(e -> assertThat(e).contains("at least one policy is required"));
  }
}
