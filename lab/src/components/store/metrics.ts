/** The store's own Prometheus metrics, in a registry of its own (served at /metrics). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    received: new Counter({
      name: 'lab_store_received_total',
      help: 'Spans and log records accepted over OTLP, by signal (spans | logs).',
      labelNames: ['signal'],
      registers,
    }),
    rejected: new Counter({
      name: 'lab_store_rejected_total',
      help: 'Export requests or items refused, by signal and reason (too_large, malformed, content_type, invalid_id, overloaded).',
      labelNames: ['signal', 'reason'],
      registers,
    }),
    rows: new Gauge({ name: 'lab_store_rows', help: 'Rows kept, by table.', labelNames: ['table'], registers }),
    dbBytes: new Gauge({ name: 'lab_store_db_bytes', help: 'Bytes the database uses (pages in use).', registers }),
    evictions: new Counter({
      name: 'lab_store_evicted_rows_total',
      help: 'Rows dropped to stay within the bounds, by table and reason (age | size).',
      labelNames: ['table', 'reason'],
      registers,
    }),
    queryDuration: new Histogram({
      name: 'lab_store_query_duration_seconds',
      help: 'Time to answer a query API request, by API (jaeger | loki) and endpoint.',
      labelNames: ['api', 'endpoint'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
  };
}
export type StoreMetrics = ReturnType<typeof createMetrics>;
