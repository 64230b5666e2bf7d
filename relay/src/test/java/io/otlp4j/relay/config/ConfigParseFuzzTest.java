package io.otlp4j.relay.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Coverage-guided fuzzing of the YAML configuration loader, {@link RelayConfig#parse(String,
 * java.util.function.Function, Path)}.
 *
 * <p>Input: the YAML text (UTF-8). Properties, for every input: the loader returns a configuration
 * or throws {@link RelayConfigException}, never another exception; the exception holds at least one
 * error, and every error names a line of the text ({@code line N: ...} with 1 &lt;= N &lt;= the
 * number of lines + 1, the end of a text that ends with a newline).
 *
 * <p>Seeds: the Collector-shaped gateway configurations of the relay's tests and the README's
 * examples, in {@code ConfigParseFuzzTestInputs/parse/}.
 */
class ConfigParseFuzzTest {
  private static final Pattern LINE = Pattern.compile("line (\\d+): .*", Pattern.DOTALL);
  private static final Path BASE;

  static {
    try {
      BASE = Files.createTempDirectory("config-fuzz");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @FuzzTest(maxDuration = "5m")
  void parse(byte[] input) {
    String yaml = new String(input, StandardCharsets.UTF_8);
    try {
      RelayConfig.parse(yaml, name -> name.length() % 3 == 0 ? null : "4318", BASE);
    } catch (RelayConfigException e) {
      assertThat(e.errors()).isNotEmpty();
      long lines = yaml.lines().count();
      for (String error : e.errors()) {
        Matcher m = LINE.matcher(error);
        assertThat(m.matches()).as("an error that names no line: %s", error).isTrue();
        assertThat(Long.parseLong(m.group(1)))
            .as("line of \"%s\" in a text of %d lines", error, lines)
            // lines + 1: the end of a text that ends with a newline (where an unclosed flow
            // sequence is found, say) is the start of the line after its last
            .isBetween(1L, lines + 1);
      }
    }
  }
}
