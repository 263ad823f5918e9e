// The traffic generator owns nothing: it plays ShopNow's customers against the gateway, at a rate
// and mix from services/traffic/profiles.json, and is steered over HTTP by `lab traffic`. It teaches
// open-model load (arrivals on a clock), and what the client saw next to what the shop reports.
import { createLogger, createRegistry, loadConfig, serve } from '@shopnow/kit';
import { createApp } from './app';
import { trafficEnv } from './config';
import { TrafficGenerator } from './generator';
import { trafficMetrics } from './metrics';
import { loadProfiles } from './profiles';

async function main(): Promise<void> {
  const env = loadConfig(trafficEnv);
  const log = createLogger('traffic', env.LOG_LEVEL);
  const registry = createRegistry('traffic', env.SERVICE_VERSION);
  const generator = new TrafficGenerator({
    gatewayUrl: env.GATEWAY_URL,
    profiles: loadProfiles(),
    profile: env.TRAFFIC_PROFILE,
    rate: env.TRAFFIC_RATE,
    users: env.TRAFFIC_USERS,
    timeoutMs: env.TRAFFIC_TIMEOUT_MS,
    maxInFlight: env.TRAFFIC_MAX_IN_FLIGHT,
    metrics: trafficMetrics(registry),
    log,
  });
  await serve(createApp({ log, registry, generator }), {
    port: env.TRAFFIC_PORT,
    host: env.HOST,
    log,
    closers: [() => generator.stop()],
  });
  await generator.start();
}

main().catch((err: unknown) => {
  // An abort is the shutdown interrupting the enrolment; serve() is already exiting cleanly.
  if (err instanceof Error && err.name === 'AbortError') return;
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
