package io.otlp4j.receiver;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Whether checking a wrong bearer token takes longer the more of the right token it starts with
 * (issue 17, "timing of a wrong token independent of its shared prefix"). Every presented token is
 * wrong and as long as the configured one; it shares its first {@code sharedPercent} % with it.
 *
 * <ul>
 *   <li>{@code bearerAuth}: {@link BearerAuth#permits} (SHA-256 of the presented token, then {@code
 *       MessageDigest.isEqual} against the configured token's digest).
 *   <li>{@code anchor_stringEquals}: a plain {@code String.equals} of the tokens, the comparison a
 *       timing attack exploits: its time grows with the shared prefix, which shows that this
 *       benchmark can see a prefix-dependent comparison when there is one.
 * </ul>
 *
 * <p>Lives in {@code io.otlp4j.receiver} (BearerAuth is package-private). Run:
 *
 * <pre>
 * bench/run bearer-auth
 * java -jar bench/target/benchmarks.jar BearerAuthBenchmark -f 2 -wi 3 -w 1s -i 5 -r 1s
 * </pre>
 *
 * The claim: for each token length, {@code bearerAuth}'s time is the same (within the error) for
 * every {@code sharedPercent}; {@code anchor_stringEquals}'s is not at 4096 characters.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class BearerAuthBenchmark {

  @Param({"32", "4096"})
  int tokenLength;

  @Param({"0", "50", "99"})
  int sharedPercent;

  private BearerAuth auth;
  private String expected;
  private String presented;
  private String header;

  @Setup
  public void setUp() {
    SplittableRandom random = new SplittableRandom(17);
    char[] token = new char[tokenLength];
    for (int i = 0; i < token.length; i++) {
      token[i] = (char) ('a' + random.nextInt(26));
    }
    expected = new String(token);
    char[] wrong = Arrays.copyOf(token, token.length);
    int shared = Math.min(tokenLength - 1, tokenLength * sharedPercent / 100);
    for (int i = shared; i < wrong.length; i++) {
      wrong[i] = (char) ('A' + random.nextInt(26)); // differs from every lower-case letter
    }
    presented = new String(wrong);
    header = "Bearer " + presented;
    auth = BearerAuth.of(expected);
    if (auth.permits(header) || expected.equals(presented)) {
      throw new IllegalStateException("the presented token must be wrong");
    }
  }

  @Benchmark
  public boolean bearerAuth() {
    return auth.permits(header);
  }

  @Benchmark
  public boolean anchor_stringEquals() {
    return expected.equals(presented);
  }
}
