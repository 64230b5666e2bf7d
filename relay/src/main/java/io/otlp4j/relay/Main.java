package io.otlp4j.relay;

/** The {@code otlp4j} command line. */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    System.out.println("otlp4j");
  }
}
