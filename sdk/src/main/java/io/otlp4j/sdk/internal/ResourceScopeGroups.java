package io.otlp4j.sdk.internal;

import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.resources.Resource;
import java.util.Arrays;
import java.util.IdentityHashMap;

/**
 * Groups telemetry items by {@link Resource} and {@link InstrumentationScopeInfo}, both compared by
 * identity as the SDK's own marshalers do, and lists them resource by resource, scope by scope,
 * each in first-seen order, items in their original order within a scope.
 *
 * <p>Allocation: the arrays are kept between batches ({@link #clear()} only forgets the
 * references), so a steady stream of batches of similar size allocates nothing here. The common
 * case (every item of a batch shares the resource and scope of the item before it) costs two
 * reference comparisons per item. Many distinct resources switch the lookup to an identity map so
 * the cost stays linear.
 *
 * <p>Not thread-safe: one instance per encoder.
 */
final class ResourceScopeGroups {
  private static final int LINEAR_RESOURCE_LOOKUP_LIMIT = 16;

  // Items and the group each belongs to, in input order.
  private Object[] items = new Object[64];
  private int[] itemGroup = new int[64];
  private int itemCount;

  // Distinct resources, first-seen order; each with the first and last of its groups.
  private Resource[] resources = new Resource[4];
  private int[] firstGroup = new int[4];
  private int[] lastGroup = new int[4];
  private int resourceCount;
  private IdentityHashMap<Resource, Integer> resourceIndex;

  // Groups (resource, scope), first-seen order, chained per resource.
  private InstrumentationScopeInfo[] groupScope = new InstrumentationScopeInfo[4];
  private int[] groupResource = new int[4];
  private int[] nextGroup = new int[4];
  private int[] groupStart = new int[5];
  private int groupCount;

  // Items sorted by group.
  private Object[] sorted = new Object[64];

  private Resource lastResource;
  private InstrumentationScopeInfo lastScope;
  private int lastGroupIndex = -1;

  void add(Resource resource, InstrumentationScopeInfo scope, Object item) {
    int group;
    if (resource == lastResource && scope == lastScope && lastGroupIndex >= 0) {
      group = lastGroupIndex;
    } else {
      group = findOrAddGroup(resource, scope);
      lastResource = resource;
      lastScope = scope;
      lastGroupIndex = group;
    }
    if (itemCount == items.length) {
      items = Arrays.copyOf(items, itemCount * 2);
      itemGroup = Arrays.copyOf(itemGroup, itemCount * 2);
    }
    items[itemCount] = item;
    itemGroup[itemCount++] = group;
  }

  private int findOrAddGroup(Resource resource, InstrumentationScopeInfo scope) {
    int r = resourceOrdinal(resource);
    for (int g = firstGroup[r]; g >= 0; g = nextGroup[g]) {
      if (groupScope[g] == scope) {
        return g;
      }
    }
    if (groupCount == groupScope.length) {
      int n = groupCount * 2;
      groupScope = Arrays.copyOf(groupScope, n);
      groupResource = Arrays.copyOf(groupResource, n);
      nextGroup = Arrays.copyOf(nextGroup, n);
      groupStart = Arrays.copyOf(groupStart, n + 1);
    }
    int g = groupCount++;
    groupScope[g] = scope;
    groupResource[g] = r;
    nextGroup[g] = -1;
    if (firstGroup[r] < 0) {
      firstGroup[r] = g;
    } else {
      nextGroup[lastGroup[r]] = g;
    }
    lastGroup[r] = g;
    return g;
  }

  private int resourceOrdinal(Resource resource) {
    if (resourceIndex != null) {
      Integer known = resourceIndex.get(resource);
      if (known != null) {
        return known;
      }
    } else {
      for (int i = 0; i < resourceCount; i++) {
        if (resources[i] == resource) {
          return i;
        }
      }
    }
    if (resourceCount == resources.length) {
      int n = resourceCount * 2;
      resources = Arrays.copyOf(resources, n);
      firstGroup = Arrays.copyOf(firstGroup, n);
      lastGroup = Arrays.copyOf(lastGroup, n);
    }
    int r = resourceCount++;
    resources[r] = resource;
    firstGroup[r] = -1;
    lastGroup[r] = -1;
    if (resourceIndex != null) {
      resourceIndex.put(resource, r);
    } else if (resourceCount > LINEAR_RESOURCE_LOOKUP_LIMIT) {
      resourceIndex = new IdentityHashMap<>();
      for (int i = 0; i < resourceCount; i++) {
        resourceIndex.put(resources[i], i);
      }
    }
    return r;
  }

  /** Sorts the added items by group (stable); call once after the last {@link #add}. */
  void seal() {
    int[] start = groupStart;
    Arrays.fill(start, 0, groupCount + 1, 0);
    for (int i = 0; i < itemCount; i++) {
      start[itemGroup[i] + 1]++;
    }
    for (int g = 0; g < groupCount; g++) {
      start[g + 1] += start[g];
    }
    if (sorted.length < itemCount) {
      sorted = new Object[items.length];
    }
    // start[g] is advanced while placing; afterwards start[g] is the end of g, so shift back.
    for (int i = 0; i < itemCount; i++) {
      sorted[start[itemGroup[i]]++] = items[i];
    }
    for (int g = groupCount; g > 0; g--) {
      start[g] = start[g - 1];
    }
    start[0] = 0;
  }

  int resourceCount() {
    return resourceCount;
  }

  Resource resource(int r) {
    return resources[r];
  }

  /** The first group of resource {@code r}; then {@link #nextGroup(int)} until it returns -1. */
  int firstGroup(int r) {
    return firstGroup[r];
  }

  int nextGroup(int g) {
    return nextGroup[g];
  }

  InstrumentationScopeInfo scope(int g) {
    return groupScope[g];
  }

  /** Index into {@link #item(int)} of the first item of group {@code g} (after {@link #seal()}). */
  int groupStart(int g) {
    return groupStart[g];
  }

  /** One past the last item of group {@code g}. */
  int groupEnd(int g) {
    return groupStart[g + 1];
  }

  Object item(int sortedIndex) {
    return sorted[sortedIndex];
  }

  /** Forgets all items and groups, dropping the references so that no telemetry is retained. */
  void clear() {
    Arrays.fill(items, 0, itemCount, null);
    Arrays.fill(sorted, 0, Math.min(itemCount, sorted.length), null);
    Arrays.fill(resources, 0, resourceCount, null);
    Arrays.fill(groupScope, 0, groupCount, null);
    itemCount = 0;
    resourceCount = 0;
    groupCount = 0;
    resourceIndex = null;
    lastResource = null;
    lastScope = null;
    lastGroupIndex = -1;
  }
}
