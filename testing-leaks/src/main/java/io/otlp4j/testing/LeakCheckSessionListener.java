package io.otlp4j.testing;

import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;

/**
 * Installs {@link NettyLeakCheck}'s recording detector factory when the JUnit Platform session
 * opens, before any test class loads Netty's buffer classes (their detectors are created when they
 * load). Registered in {@code META-INF/services}; a module whose tests have this jar on the class
 * path gets it without asking.
 */
public final class LeakCheckSessionListener implements LauncherSessionListener {
  @Override
  public void launcherSessionOpened(LauncherSession session) {
    NettyLeakCheck.install();
  }
}
