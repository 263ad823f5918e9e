import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@shopnow/kit';
import { isLoopbackUrl } from './config';
import { JOURNEYS, type JourneyContext, type SendInit, type User } from './journeys';
import { outcomeOf, type Outcome, type TrafficMetrics } from './metrics';
import { JOURNEY_NAMES, requestsPerJourney, type JourneyName, type ProfilesFile } from './profiles';
import { enrolUsers } from './users';

export interface GeneratorOptions {
  gatewayUrl: string;
  profiles: ProfilesFile;
  profile: string;
  /** Requests per second; the profile's own rate when left out. */
  rate?: number;
  users: number;
  timeoutMs: number;
  maxInFlight: number;
  metrics: TrafficMetrics;
  log: Logger;
  /** Uniform in [0, 1); tests pass a seeded one. */
  random?: () => number;
}

export interface TrafficChange {
  running?: boolean;
  rate?: number;
  profile?: string;
  /** The noisy client's API key; a profile change without one goes back to profiles.json's. */
  noisyApiKey?: string;
}

export class UnknownProfileError extends Error {}

// Arrivals are counted out every tick; 20 ms keeps them evenly spread even at 500 requests/s.
const TICK_MS = 20;

/**
 * An open-model load generator: journeys start on a clock at the target rate whether or not the
 * shop keeps up (a closed loop would slow down with the shop and hide the very latency we want
 * to see). What bounds it is the number of journeys under way; an arrival over that is dropped
 * and counted. Arrivals are evenly spaced, like k6's constant-arrival-rate.
 */
export class TrafficGenerator {
  /** What the learner asked for; traffic flows once the users are enrolled as well. */
  private running = true;
  private rate: number;
  private profileName: string;
  private noisyApiKey: string;
  private users: User[] = [];
  private inFlight = 0;
  private sent = 0;
  private errors = 0;
  private dropped = 0;
  private due = 0;
  private lastTick = performance.now();
  private timer?: NodeJS.Timeout;
  private readonly journeys = new Set<Promise<void>>();
  private readonly closing = new AbortController();
  private readonly random: () => number;

  constructor(private readonly options: GeneratorOptions) {
    if (!isLoopbackUrl(options.gatewayUrl)) {
      throw new Error(`refusing to send traffic to ${options.gatewayUrl}: the lab loads only loopback addresses`);
    }
    this.random = options.random ?? Math.random;
    this.rate = options.rate ?? this.profileOf(options.profile).rate;
    this.profileName = options.profile;
    this.noisyApiKey = options.profiles.journeys['noisy-client'].apiKey;
  }

  /** Enrols the users (waiting for the gateway if need be), then starts the clock. */
  async start(): Promise<void> {
    this.users = await enrolUsers({ ...this.options, count: this.options.users, signal: this.closing.signal });
    this.options.log.info('traffic users enrolled', { users: this.users.length });
    this.lastTick = performance.now();
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.publishRate();
  }

  get ready(): boolean {
    return this.timer !== undefined;
  }

  status() {
    return {
      running: this.running,
      ready: this.ready,
      rate: this.rate,
      profile: this.profileName,
      inFlight: this.inFlight,
      sent: this.sent,
      errors: this.errors,
      dropped: this.dropped,
    };
  }

  /** A profile change also takes that profile's rate, unless the same change names a rate. */
  control(change: TrafficChange): ReturnType<TrafficGenerator['status']> {
    if (change.profile !== undefined) {
      this.rate = this.profileOf(change.profile).rate;
      this.profileName = change.profile;
    }
    if (change.profile !== undefined || change.noisyApiKey !== undefined)
      this.noisyApiKey = change.noisyApiKey ?? this.options.profiles.journeys['noisy-client'].apiKey;
    if (change.rate !== undefined) this.rate = change.rate;
    if (change.running !== undefined) this.running = change.running;
    this.publishRate();
    // No profile in the line: the noisy one is an exercise's fault, and this log is the lab's own.
    this.options.log.info('traffic changed', { running: this.running, rate: this.rate });
    return this.status();
  }

  /** Stops the clock, abandons journeys under way (their requests are aborted, not counted) and waits for them. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.running = false;
    this.publishRate();
    this.closing.abort();
    await Promise.allSettled([...this.journeys]);
  }

  private profileOf(name: string) {
    const profile = this.options.profiles.profiles[name];
    if (!profile) throw new UnknownProfileError(`unknown traffic profile "${name}"`);
    return profile;
  }

  private publishRate(): void {
    this.options.metrics.targetRate.set(this.running && this.ready ? this.rate : 0);
  }

  private tick(): void {
    const now = performance.now();
    // After a stall (a blocked event loop, a paused laptop) catch up at most one second of arrivals.
    const seconds = Math.min(now - this.lastTick, 1_000) / 1_000;
    this.lastTick = now;
    if (!this.running) {
      this.due = 0;
      return;
    }
    const { weights } = this.profileOf(this.profileName);
    this.due += (seconds * this.rate) / requestsPerJourney(this.options.profiles, weights);
    for (; this.due >= 1; this.due--) this.arrive(this.pickJourney(weights));
  }

  private pickJourney(weights: Partial<Record<JourneyName, number>>): JourneyName {
    const names = JOURNEY_NAMES.filter((name) => (weights[name] ?? 0) > 0);
    const total = names.reduce((sum, name) => sum + (weights[name] ?? 0), 0);
    let point = this.random() * total;
    for (const name of names) {
      point -= weights[name] ?? 0;
      if (point < 0) return name;
    }
    return names[names.length - 1];
  }

  private arrive(journey: JourneyName): void {
    const { metrics } = this.options;
    if (this.inFlight >= this.options.maxInFlight) {
      this.dropped++;
      metrics.dropped.inc();
      return;
    }
    this.inFlight++;
    metrics.inFlight.set(this.inFlight);
    const run = JOURNEYS[journey](this.contextFor(journey))
      .catch((err: unknown) => {
        // An abort at shutdown is expected; anything else is a bug in a journey.
        if (!this.closing.signal.aborted) this.options.log.error('journey failed', { journey, err });
      })
      .finally(() => {
        this.inFlight--;
        metrics.inFlight.set(this.inFlight);
        this.journeys.delete(run);
      });
    this.journeys.add(run);
  }

  private contextFor(journey: JourneyName): JourneyContext {
    const { profiles } = this.options;
    const int = (min: number, max: number) => min + Math.floor(this.random() * (max - min + 1));
    const { thinkTimeMs } = this.profileOf(this.profileName);
    return {
      send: (path, init) => this.send(journey, path, init),
      think: () => sleep(int(thinkTimeMs.min, thinkTimeMs.max), undefined, { signal: this.closing.signal }),
      int,
      user: () => this.users[int(0, this.users.length - 1)],
      visitorKey: `lab-visitor-${int(1, profiles.visitors)}`,
      noisyApiKey: this.noisyApiKey,
    };
  }

  private async send(journey: JourneyName, path: string, init: SendInit = {}): Promise<unknown> {
    const headers: Record<string, string> = {};
    if (init.json !== undefined) headers['content-type'] = 'application/json';
    if (init.apiKey) headers['x-api-key'] = init.apiKey;
    if (init.token) headers.authorization = `Bearer ${init.token}`;
    if (init.idempotencyKey) headers['idempotency-key'] = init.idempotencyKey;
    const start = performance.now();
    let outcome: Outcome;
    let body: unknown;
    try {
      const res = await fetch(`${this.options.gatewayUrl}${path}`, {
        method: init.method ?? 'GET',
        headers,
        body: init.json === undefined ? undefined : JSON.stringify(init.json),
        // The timeout covers the body too: a shop that stalls mid-answer is as slow as one that never starts.
        signal: AbortSignal.any([this.closing.signal, AbortSignal.timeout(this.options.timeoutMs)]),
      });
      const text = await res.text();
      outcome = outcomeOf(res.status);
      body = outcome === 'ok' ? parseJson(text) : undefined;
    } catch (err) {
      if (this.closing.signal.aborted) throw err;
      // By name, not instanceof: fetch's DOMException may come from another realm (a test sandbox).
      outcome = (err as { name?: unknown } | null)?.name === 'TimeoutError' ? 'timeout' : 'network_error';
    }
    this.sent++;
    if (outcome !== 'ok') this.errors++;
    this.options.metrics.requests.inc({ journey, outcome });
    this.options.metrics.duration.observe({ journey }, (performance.now() - start) / 1_000);
    return outcome === 'ok' ? body : undefined;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
