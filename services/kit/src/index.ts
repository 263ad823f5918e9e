// The clients for MySQL, Redis and RabbitMQ are their own entry points (`@shopnow/kit/mysql`,
// `/redis`, `/amqp`): a service loads only the drivers it talks to, ~5-10 MiB of resident memory
// each for the ones it does not (docs/benchmarks.md).
export * from './config';
export * from './errors';
export * from './health';
export * from './http-client';
export * from './logger';
export * from './metrics';
export * from './service';
export { shutdownTelemetry } from './telemetry-handle';
export * from './events';
export * from './identity';
export * from './faults';
