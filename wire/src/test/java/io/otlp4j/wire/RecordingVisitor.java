package io.otlp4j.wire;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Records every range the walker reports, for comparison with the official view. */
final class RecordingVisitor implements OtlpVisitor {
  final List<int[]> resourceEntries = new ArrayList<>();
  final List<int[]> resources = new ArrayList<>();
  final List<int[]> scopeEntries = new ArrayList<>();
  final List<int[]> scopes = new ArrayList<>();
  final List<int[]> items = new ArrayList<>();
  final List<int[]> dataPoints = new ArrayList<>();
  final List<int[]> traceIds = new ArrayList<>();

  /** Per Resource*: the reported attribute range or null. */
  final List<int[]> attributes = new ArrayList<>();

  @Override
  public void resource(int start, int end) {
    resourceEntries.add(new int[] {start, end});
    attributes.add(null);
  }

  @Override
  public void resourceMessage(int start, int end) {
    resources.add(new int[] {start, end});
  }

  @Override
  public void resourceAttribute(int start, int end) {
    attributes.set(attributes.size() - 1, new int[] {start, end});
  }

  @Override
  public void scope(int start, int end) {
    scopeEntries.add(new int[] {start, end});
  }

  @Override
  public void scopeMessage(int start, int end) {
    scopes.add(new int[] {start, end});
  }

  @Override
  public void item(int start, int end) {
    items.add(new int[] {start, end});
  }

  @Override
  public void dataPoint(int start, int end) {
    dataPoints.add(new int[] {start, end});
  }

  @Override
  public void traceId(int start, int end) {
    traceIds.add(new int[] {start, end});
  }

  static byte[] slice(byte[] bytes, int[] range) {
    return Arrays.copyOfRange(bytes, range[0], range[1]);
  }
}
