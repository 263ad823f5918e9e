/**
 * The telemetry preload hands its process-wide settings to the kit here: the running OpenTelemetry
 * SDK registers its shutdown, so that graceful shutdown can flush spans and logs last without
 * importing (and so starting) the SDK itself.
 */
let flush: () => Promise<void> = async () => {};

export function onTelemetryShutdown(shutdown: () => Promise<void>): void {
  flush = shutdown;
}

export function shutdownTelemetry(): Promise<void> {
  return flush();
}

/**
 * Whether the RED middleware runs. The preload turns it off with METRICS_ENABLED=false (read with
 * the OTEL_* variables, before main.ts), so that a benchmark can compare a service with and
 * without its instrumentation; the lab never sets it.
 */
let redMetrics = true;

export function setRedMetrics(enabled: boolean): void {
  redMetrics = enabled;
}

export function redMetricsEnabled(): boolean {
  return redMetrics;
}
