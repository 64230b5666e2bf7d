package io.otlp4j.core.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.otlp4j.core.internal.FaultInjection.Stage;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class FaultInjectionTest {

  @Test
  void withoutAHookEveryCheckPasses() {
    for (Stage stage : Stage.values()) {
      assertThatCode(() -> FaultInjection.check(stage)).doesNotThrowAnyException();
    }
  }

  @Test
  void anInstalledHookSeesEveryCheckAndThrowsUntilClosed() {
    List<Stage> seen = new ArrayList<>();
    try (FaultInjection.Installed installed =
        FaultInjection.install(
            stage -> {
              seen.add(stage);
              if (stage == Stage.SPLIT) {
                throw new IllegalStateException("injected");
              }
            })) {
      FaultInjection.check(Stage.BATCH);
      assertThatThrownBy(() -> FaultInjection.check(Stage.SPLIT)).hasMessage("injected");
    }
    FaultInjection.check(Stage.SPLIT);
    assertThat(seen).containsExactly(Stage.BATCH, Stage.SPLIT);
  }

  @Test
  void oneHookAtATime() {
    try (FaultInjection.Installed installed = FaultInjection.install(stage -> {})) {
      assertThatThrownBy(() -> FaultInjection.install(stage -> {}))
          .isInstanceOf(IllegalStateException.class);
    }
    FaultInjection.install(stage -> {}).close(); // the first one's close freed the seam
  }
}
