package io.otlp4j.bench.command;

import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The progress line of {@code ./otlp4j bench}: the phase running now, how far the run is and how
 * long is left, estimated from the planned length of every phase. On a terminal the line is redrawn
 * every second; otherwise one line per phase.
 *
 * <p>Thread-safety: {@link #phase} is called by the driver thread, the redraw runs on a timer
 * thread; the fields they share are guarded by {@code this}.
 */
public final class Progress implements AutoCloseable {

  private final PrintStream out;
  private final boolean terminal;
  private final long plannedTotalMs;
  private final ScheduledExecutorService timer;
  private long doneMs; // planned ms of the phases that are over
  private long phaseStartNanos = System.nanoTime();
  private long phasePlannedMs;
  private String phase = "starting";
  private int lastWidth;

  public Progress(PrintStream out, boolean terminal, long plannedTotalMs) {
    this.out = out;
    this.terminal = terminal;
    this.plannedTotalMs = Math.max(1, plannedTotalMs);
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "bench-progress");
              t.setDaemon(true);
              return t;
            });
    if (terminal) {
      timer.scheduleAtFixedRate(this::draw, 1, 1, TimeUnit.SECONDS);
    }
  }

  /** A new phase begins, planned to take {@code plannedMs}; the previous one is over. */
  public synchronized void phase(String name, long plannedMs) {
    doneMs += phasePlannedMs;
    phase = name;
    phasePlannedMs = plannedMs;
    phaseStartNanos = System.nanoTime();
    if (terminal) {
      draw();
    } else {
      out.println(line());
      out.flush();
    }
  }

  /** Prints {@code message} on its own line (above the progress line on a terminal). */
  public synchronized void log(String message) {
    if (terminal) {
      out.print("\r" + " ".repeat(lastWidth) + "\r");
    }
    out.println(message);
    if (terminal) {
      draw();
    }
    out.flush();
  }

  synchronized String line() {
    long inPhase = Math.min(phasePlannedMs, (System.nanoTime() - phaseStartNanos) / 1_000_000);
    long done = Math.min(plannedTotalMs, doneMs + inPhase);
    long left = Math.max(0, plannedTotalMs - done);
    return String.format(
        Locale.ROOT,
        "[%3d%%] %s — about %d:%02d left",
        100 * done / plannedTotalMs,
        phase,
        left / 60_000,
        left / 1000 % 60);
  }

  private synchronized void draw() {
    String l = line();
    out.print("\r" + l + " ".repeat(Math.max(0, lastWidth - l.length())));
    lastWidth = l.length();
    out.flush();
  }

  @Override
  public synchronized void close() {
    timer.shutdownNow();
    if (terminal) {
      out.print("\r" + " ".repeat(lastWidth) + "\r");
      out.flush();
    }
  }
}
