package io.otlp4j.relay.component;

import java.util.HashMap;
import java.util.Map;

/** The OTTL enum constants a condition may name, with their OTLP numbers. */
final class OttlEnums {
  private static final Map<String, Integer> VALUES = new HashMap<>();

  static {
    String[] kinds = {"UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER"};
    for (int i = 0; i < kinds.length; i++) {
      VALUES.put("SPAN_KIND_" + kinds[i], i);
    }
    VALUES.put("STATUS_CODE_UNSET", 0);
    VALUES.put("STATUS_CODE_OK", 1);
    VALUES.put("STATUS_CODE_ERROR", 2);
    VALUES.put("SEVERITY_NUMBER_UNSPECIFIED", 0);
    String[] severities = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"};
    for (int i = 0; i < severities.length; i++) {
      VALUES.put("SEVERITY_NUMBER_" + severities[i], 4 * i + 1);
      for (int j = 2; j <= 4; j++) {
        VALUES.put("SEVERITY_NUMBER_" + severities[i] + j, 4 * i + j);
      }
    }
    String[] types = {"NONE", "GAUGE", "SUM", "HISTOGRAM", "EXPONENTIAL_HISTOGRAM", "SUMMARY"};
    for (int i = 0; i < types.length; i++) {
      VALUES.put("METRIC_DATA_TYPE_" + types[i], i);
    }
  }

  private OttlEnums() {}

  /** The number of {@code name}, or null when it is not a known constant. */
  static Integer value(String name) {
    return VALUES.get(name);
  }
}
