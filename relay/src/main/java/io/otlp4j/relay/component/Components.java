package io.otlp4j.relay.component;

import io.otlp4j.relay.RelayExporter;
import io.otlp4j.relay.config.ComponentConfig;
import io.otlp4j.relay.config.ExporterConfig;
import io.otlp4j.relay.config.ExtensionConfig;
import io.otlp4j.relay.config.ProcessorConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The component types the relay knows, by the Collector's type name: the factories that read each
 * type's configuration section and build the component. {@link #builtIn()} lists otlp4j's own;
 * adding a component is one factory class and one line there.
 *
 * <p>Immutable and thread-safe.
 */
public final class Components {
  private final Map<String, ReceiverFactory> receivers;
  private final Map<String, ProcessorFactory<?>> processors;
  private final Map<String, ExporterFactory<?>> exporters;
  private final Map<String, ExtensionFactory<?>> extensions;

  private Components(Builder b) {
    this.receivers = Map.copyOf(b.receivers);
    this.processors = Map.copyOf(b.processors);
    this.exporters = Map.copyOf(b.exporters);
    this.extensions = Map.copyOf(b.extensions);
  }

  /** Every component otlp4j ships. */
  public static Components builtIn() {
    return builder()
        .receiver(new OtlpReceiverFactory())
        .receiver(new KafkaReceiverFactory())
        .processor(new BatchProcessorFactory())
        .processor(new MemoryLimiterProcessorFactory())
        .processor(new ResourceProcessorFactory())
        .processor(new AttributesProcessorFactory())
        .processor(new FilterProcessorFactory())
        .processor(new ProbabilisticSamplerProcessorFactory())
        .processor(new TailSamplingProcessorFactory())
        .exporter(new OtlpExporterFactory(OtlpExporterFactory.OTLP))
        .exporter(new OtlpExporterFactory(OtlpExporterFactory.OTLPHTTP))
        .exporter(new FileExporterFactory())
        .exporter(new DebugExporterFactory())
        .exporter(new KafkaExporterFactory())
        .exporter(new LoadBalancingExporterFactory())
        .extension(new BearerTokenAuthExtensionFactory())
        .extension(new FileStorageExtensionFactory())
        .extension(new HealthCheckExtensionFactory())
        .extension(new ZPagesExtensionFactory())
        .extension(new PprofExtensionFactory())
        .build();
  }

  /** An empty registry's builder. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding these types, to add more (an embedding application's own components). */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.receivers.putAll(receivers);
    b.processors.putAll(processors);
    b.exporters.putAll(exporters);
    b.extensions.putAll(extensions);
    return b;
  }

  /** The factory of receiver type {@code type}, or null. */
  public ReceiverFactory receiver(String type) {
    return receivers.get(type);
  }

  /** The factory of processor type {@code type}, or null. */
  public ProcessorFactory<?> processor(String type) {
    return processors.get(type);
  }

  /** The factory of exporter type {@code type}, or null. */
  public ExporterFactory<?> exporter(String type) {
    return exporters.get(type);
  }

  /** The factory of extension type {@code type}, or null. */
  public ExtensionFactory<?> extension(String type) {
    return extensions.get(type);
  }

  /**
   * The known types of a section ({@code receivers}, {@code processors}, {@code exporters}, {@code
   * extensions}), sorted.
   */
  public List<String> types(String section) {
    Map<String, ?> m =
        switch (section) {
          case "receivers" -> receivers;
          case "processors" -> processors;
          case "exporters" -> exporters;
          case "extensions" -> extensions;
          default -> Map.of();
        };
    return m.keySet().stream().sorted().toList();
  }

  /** Builds exporter {@code config} with the factory of its type. */
  @SuppressWarnings("unchecked")
  public RelayExporter createExporter(ExporterConfig config, ComponentContext context) {
    ExporterFactory<ExporterConfig> f =
        (ExporterFactory<ExporterConfig>) factory(exporters, config, "exporter");
    return f.create(config, context);
  }

  /**
   * The step processor {@code config} adds to a pipeline, or null (see {@link
   * ProcessorFactory#create}).
   */
  @SuppressWarnings("unchecked")
  public RelayProcessor createProcessor(ProcessorConfig config, ComponentContext context) {
    ProcessorFactory<ProcessorConfig> f =
        (ProcessorFactory<ProcessorConfig>) factory(processors, config, "processor");
    return f.create(config, context);
  }

  /**
   * Starts extension {@code config} (see {@link ExtensionFactory#start}); null when it runs
   * nothing.
   */
  @SuppressWarnings("unchecked")
  public AutoCloseable startExtension(ExtensionConfig config, ComponentContext context) {
    ExtensionFactory<ExtensionConfig> f =
        (ExtensionFactory<ExtensionConfig>) factory(extensions, config, "extension");
    return f.start(config, context);
  }

  private static <F> F factory(Map<String, F> factories, ComponentConfig config, String kind) {
    String type = ComponentConfig.typeOf(config.id());
    F f = factories.get(type);
    if (f == null) {
      throw new IllegalArgumentException(
          "unknown "
              + kind
              + " type '"
              + type
              + "' (known: "
              + String.join(", ", factories.keySet().stream().sorted().toList())
              + ")");
    }
    return f;
  }

  /** Collects factories; a type registered twice is an error. Not thread-safe. */
  public static final class Builder {
    private final Map<String, ReceiverFactory> receivers = new LinkedHashMap<>();
    private final Map<String, ProcessorFactory<?>> processors = new LinkedHashMap<>();
    private final Map<String, ExporterFactory<?>> exporters = new LinkedHashMap<>();
    private final Map<String, ExtensionFactory<?>> extensions = new LinkedHashMap<>();

    private Builder() {}

    public Builder receiver(ReceiverFactory factory) {
      put(receivers, factory, "receiver");
      return this;
    }

    public Builder processor(ProcessorFactory<?> factory) {
      put(processors, factory, "processor");
      return this;
    }

    public Builder exporter(ExporterFactory<?> factory) {
      put(exporters, factory, "exporter");
      return this;
    }

    public Builder extension(ExtensionFactory<?> factory) {
      put(extensions, factory, "extension");
      return this;
    }

    private static <F extends ComponentFactory<?>> void put(
        Map<String, F> m, F factory, String kind) {
      Objects.requireNonNull(factory, kind);
      if (m.putIfAbsent(factory.type(), factory) != null) {
        throw new IllegalArgumentException(
            kind + " type '" + factory.type() + "' is registered twice");
      }
    }

    public Components build() {
      return new Components(this);
    }
  }
}
