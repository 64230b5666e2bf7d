package io.otlp4j.relay.component;

import io.otlp4j.wire.ElementView;
import io.otlp4j.wire.ValueView;

/**
 * A compiled OTTL condition (the subset {@link OttlParser} reads): a tree of boolean nodes over
 * value nodes that read an element's fields straight from the request's bytes. Evaluating one
 * allocates nothing for string, int, double and bool values: every value lands in a {@link Slot} of
 * the {@link Eval} the caller passes, one slot per value node, numbered when the condition was
 * compiled. Immutable and thread-safe; the {@link Eval} is per thread.
 */
final class OttlCondition {
  /**
   * An element level, from the resource down; a condition's context is the deepest level it reads.
   */
  enum Level {
    RESOURCE(0),
    SCOPE(1),
    SPAN(2),
    SPANEVENT(3),
    METRIC(2),
    DATAPOINT(3),
    LOG(2);

    final int depth;

    Level(int depth) {
      this.depth = depth;
    }

    /** Whether an element of this level has {@code other} as itself or as an ancestor. */
    boolean reaches(Level other) {
      if (other.depth > depth) {
        return false;
      }
      if (other.depth < 2) {
        return true;
      }
      return other == this
          || (this == SPANEVENT && other == SPAN)
          || (this == DATAPOINT && other == METRIC);
    }
  }

  static final int NIL = 0;
  static final int STRING = 1;
  static final int INT = 2;
  static final int DOUBLE = 3;
  static final int BOOL = 4;

  /** An array, map or bytes value: equal to nothing scalar. */
  static final int OTHER = 5;

  static final int EQ = 0;
  static final int NE = 1;
  static final int LT = 2;
  static final int LE = 3;
  static final int GT = 4;
  static final int GE = 5;

  final String text;
  final Level context;
  final Bool root;
  final int slots;

  OttlCondition(String text, Level context, Bool root, int slots) {
    this.text = text;
    this.context = context;
    this.root = root;
    this.slots = slots;
  }

  boolean test(ElementView element, Eval eval) {
    return root.test(element, eval);
  }

  /** A value while a condition is evaluated. */
  static final class Slot {
    int type;
    CharSequence text;
    long i;
    double d;
    boolean b;
    final ValueView view = new ValueView();

    void set(ValueView v) {
      switch (v.type()) {
        case STRING -> {
          type = STRING;
          text = v.stringValue();
        }
        case INT -> {
          type = INT;
          i = v.intValue();
        }
        case DOUBLE -> {
          type = DOUBLE;
          d = v.doubleValue();
        }
        case BOOL -> {
          type = BOOL;
          b = v.boolValue();
        }
        case ABSENT, EMPTY -> type = NIL;
        default -> type = OTHER;
      }
    }
  }

  /**
   * What evaluating needs: a slot per value node and the pattern matchers. One per thread at a
   * time.
   */
  static final class Eval {
    final Slot[] slots;
    final MatchScratch matchers;

    Eval(int slotCount, MatchScratch matchers) {
      this.slots = new Slot[slotCount];
      for (int i = 0; i < slotCount; i++) {
        slots[i] = new Slot();
      }
      this.matchers = matchers;
    }
  }

  // ------------------------------------------------------------------------------------ nodes

  interface Bool {
    boolean test(ElementView e, Eval s);
  }

  record Or(Bool[] terms) implements Bool {
    @Override
    public boolean test(ElementView e, Eval s) {
      for (Bool t : terms) {
        if (t.test(e, s)) {
          return true;
        }
      }
      return false;
    }
  }

  record And(Bool[] terms) implements Bool {
    @Override
    public boolean test(ElementView e, Eval s) {
      for (Bool t : terms) {
        if (!t.test(e, s)) {
          return false;
        }
      }
      return true;
    }
  }

  record Not(Bool term) implements Bool {
    @Override
    public boolean test(ElementView e, Eval s) {
      return !term.test(e, s);
    }
  }

  /** A value used as a condition: true only for the bool true. */
  record Truth(Value value) implements Bool {
    @Override
    public boolean test(ElementView e, Eval s) {
      Slot v = value.eval(e, s);
      return v.type == BOOL && v.b;
    }
  }

  record Compare(Value left, int op, Value right) implements Bool {
    @Override
    public boolean test(ElementView e, Eval s) {
      return compare(left.eval(e, s), op, right.eval(e, s));
    }
  }

  /**
   * {@code IsMatch(target, "pattern")}: the pattern found in the target's text (a number or bool
   * formatted).
   */
  record IsMatch(Value target, int patternId) implements Bool {
    @Override
    public boolean test(ElementView e, Eval s) {
      Slot v = target.eval(e, s);
      CharSequence text =
          switch (v.type) {
            case STRING -> v.text;
            case INT -> Long.toString(v.i);
            case DOUBLE -> ValueText.plain(v.d);
            case BOOL -> v.b ? "true" : "false";
            default -> null;
          };
      return text != null && s.matchers.find(patternId, text);
    }
  }

  /**
   * The filter processor's {@code HasAttrKeyOnDatapoint(key)} ({@code value} null) and {@code
   * HasAttrOnDatapoint(key, value)}: a metric with a data point that has the attribute (with that
   * string value). Read from the metric's bytes; allocates nothing.
   */
  static final class DatapointAttribute implements Bool {
    private final byte[] key;
    private final byte[] value;

    DatapointAttribute(String key, String value) {
      this.key = key.getBytes(java.nio.charset.StandardCharsets.UTF_8);
      this.value = value == null ? null : value.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    @Override
    public boolean test(ElementView e, Eval s) {
      return e.anyDataPointHasAttribute(key, value);
    }
  }

  /** {@code IsString}, {@code IsInt}, {@code IsDouble}, {@code IsBool}. */
  record IsType(Value target, int type) implements Bool {
    @Override
    public boolean test(ElementView e, Eval s) {
      return target.eval(e, s).type == type;
    }
  }

  static boolean compare(Slot a, int op, Slot b) {
    if (a.type == NIL || b.type == NIL) {
      boolean equal = a.type == b.type;
      return op == EQ ? equal : op == NE && !equal;
    }
    int c;
    if ((a.type == INT || a.type == DOUBLE) && (b.type == INT || b.type == DOUBLE)) {
      c =
          a.type == INT && b.type == INT
              ? Long.compare(a.i, b.i)
              : Double.compare(a.type == INT ? a.i : a.d, b.type == INT ? b.i : b.d);
      if (a.type != INT || b.type != INT) {
        double x = a.type == INT ? a.i : a.d;
        double y = b.type == INT ? b.i : b.d;
        if (Double.isNaN(x) || Double.isNaN(y)) {
          return op == NE;
        }
        c = x < y ? -1 : x > y ? 1 : 0;
      }
    } else if (a.type == STRING && b.type == STRING) {
      c = CharSequence.compare(a.text, b.text);
    } else if (a.type == BOOL && b.type == BOOL) {
      if (op != EQ && op != NE) {
        return false;
      }
      c = a.b == b.b ? 0 : 1;
    } else {
      return op == NE;
    }
    return switch (op) {
      case EQ -> c == 0;
      case NE -> c != 0;
      case LT -> c < 0;
      case LE -> c <= 0;
      case GT -> c > 0;
      default -> c >= 0;
    };
  }

  /** A value node: evaluates into its own slot and returns it. */
  abstract static class Value {
    final int slot;

    Value(int slot) {
      this.slot = slot;
    }

    abstract Slot eval(ElementView e, Eval s);
  }

  static final class Literal extends Value {
    private final int type;
    private final String text;
    private final long i;
    private final double d;
    private final boolean b;

    Literal(int slot, int type, String text, long i, double d, boolean b) {
      super(slot);
      this.type = type;
      this.text = text;
      this.i = i;
      this.d = d;
      this.b = b;
    }

    @Override
    Slot eval(ElementView e, Eval s) {
      Slot out = s.slots[slot];
      out.type = type;
      out.text = text;
      out.i = i;
      out.d = d;
      out.b = b;
      return out;
    }
  }

  /** {@code a - b} for two ints (a span's {@code end_time_unix_nano - start_time_unix_nano}). */
  static final class Difference extends Value {
    private final Value left;
    private final Value right;

    Difference(int slot, Value left, Value right) {
      super(slot);
      this.left = left;
      this.right = right;
    }

    @Override
    Slot eval(ElementView e, Eval s) {
      Slot a = left.eval(e, s);
      Slot b = right.eval(e, s);
      Slot out = s.slots[slot];
      if (a.type == INT && b.type == INT) {
        out.type = INT;
        out.i = a.i - b.i;
      } else if ((a.type == INT || a.type == DOUBLE) && (b.type == INT || b.type == DOUBLE)) {
        out.type = DOUBLE;
        out.d = (a.type == INT ? a.i : a.d) - (b.type == INT ? b.i : b.d);
      } else {
        out.type = NIL;
      }
      return out;
    }
  }

  /** The fields a path can read. */
  enum Field {
    ATTRIBUTE,
    NAME,
    VERSION,
    KIND,
    STATUS_CODE,
    START,
    END,
    DURATION,
    SEVERITY_NUMBER,
    SEVERITY_TEXT,
    BODY,
    METRIC_TYPE
  }

  static final class Path extends Value {
    private final Level level;
    private final Field field;
    private final byte[] key;

    Path(int slot, Level level, Field field, byte[] key) {
      super(slot);
      this.level = level;
      this.field = field;
      this.key = key;
    }

    @Override
    Slot eval(ElementView e, Eval s) {
      ElementView t = e;
      for (int d = depth(e.kind()); d > level.depth; d--) {
        t = t.parent();
      }
      Slot out = s.slots[slot];
      switch (field) {
        case ATTRIBUTE -> out.set(t.attribute(key, out.view));
        case NAME -> text(out, t.name());
        case VERSION -> text(out, t.version());
        case KIND -> integer(out, t.spanKind());
        case STATUS_CODE -> integer(out, t.statusCode());
        case START -> integer(out, t.startTimeUnixNano());
        case END -> integer(out, t.endTimeUnixNano());
        case DURATION -> integer(out, t.endTimeUnixNano() - t.startTimeUnixNano());
        case SEVERITY_NUMBER -> integer(out, t.severityNumber());
        case SEVERITY_TEXT -> text(out, t.severityText());
        case BODY -> out.set(t.body());
        default -> integer(out, t.metricType().ordinal());
      }
      return out;
    }

    private static void text(Slot out, CharSequence text) {
      out.type = STRING;
      out.text = text;
    }

    private static void integer(Slot out, long value) {
      out.type = INT;
      out.i = value;
    }

    private static int depth(ElementView.Kind kind) {
      return switch (kind) {
        case RESOURCE -> 0;
        case SCOPE -> 1;
        case SPAN, METRIC, LOG_RECORD -> 2;
        default -> 3;
      };
    }
  }

  @Override
  public String toString() {
    return text;
  }
}
