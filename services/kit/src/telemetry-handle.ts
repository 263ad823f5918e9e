/**
 * The running OpenTelemetry SDK registers its shutdown here, so that graceful shutdown can flush
 * spans and logs last without importing (and so starting) the SDK itself.
 */
let flush: () => Promise<void> = async () => {};

export function onTelemetryShutdown(shutdown: () => Promise<void>): void {
  flush = shutdown;
}

export function shutdownTelemetry(): Promise<void> {
  return flush();
}
