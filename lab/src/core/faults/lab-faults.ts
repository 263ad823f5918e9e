import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import amqp from 'amqplib';
import mysql from 'mysql2/promise';
import { ORDER_CREATED, ORDER_PAID, type FaultName } from '@shopnow/kit';
import { LabError } from '../errors';
import { ROOT } from '../paths';
import { isSealed, seal, unseal } from '../sealed';
import type { FaultContext } from './context';

/**
 * The faults the lab carries out itself, on real mechanisms: DDL on the orders table, messages on
 * the broker, a traffic profile, a deploy. Each one in force is recorded in the state file with
 * what its undo needs.
 */
export interface LabFault {
  name: FaultName;
  target?: string; // the instance (bad-release)
  options: Record<string, unknown>;
  since: string;
  undo?: Record<string, unknown>;
}

/** The records in force; the file is sealed (core/sealed.ts): it must not show an exercise's fault. */
export function readLabFaults(ctx: FaultContext): LabFault[] {
  if (!fs.existsSync(ctx.stateFile)) return [];
  const stored = JSON.parse(fs.readFileSync(ctx.stateFile, 'utf8')) as unknown;
  return isSealed(stored) ? unseal<LabFault[]>(ctx.labToken, stored) : (stored as LabFault[]);
}

export function writeLabFaults(ctx: FaultContext, faults: LabFault[]): void {
  fs.mkdirSync(path.dirname(ctx.stateFile), { recursive: true });
  fs.writeFileSync(ctx.stateFile, `${JSON.stringify(seal(ctx.labToken, faults))}\n`, { mode: 0o600 });
}

// --- dropped-index ----------------------------------------------------------------------------

/** The index that serves a customer's order history, as the orders migrations define it. */
export const HISTORY_INDEX = 'orders_user_created';

export function historyIndexColumns(migrations = path.join(ROOT, 'services/orders/migrations')): string {
  for (const file of fs.readdirSync(migrations).filter((f) => f.endsWith('.sql'))) {
    const match = new RegExp(`KEY\\s+${HISTORY_INDEX}\\s*\\(([^)]+)\\)`).exec(
      fs.readFileSync(path.join(migrations, file), 'utf8'),
    );
    if (match) return match[1].trim();
  }
  throw new LabError(`no index ${HISTORY_INDEX} in ${migrations}`);
}

async function withAdmin<T>(ctx: FaultContext, work: (conn: mysql.Connection) => Promise<T>): Promise<T> {
  const conn = await mysql.createConnection({ uri: ctx.mysqlAdminUrl }).catch((err: Error) => {
    throw new LabError(`MySQL does not accept the lab's admin account (${err.message})`);
  });
  try {
    return await work(conn);
  } finally {
    await conn.end();
  }
}

export async function hasHistoryIndex(ctx: FaultContext): Promise<boolean> {
  return withAdmin(ctx, async (conn) => {
    const [rows] = await conn.query(`SHOW INDEX FROM \`${ctx.ordersSchema}\`.orders WHERE Key_name = ?`, [
      HISTORY_INDEX,
    ]);
    return (rows as unknown[]).length > 0;
  });
}

export async function dropHistoryIndex(ctx: FaultContext): Promise<void> {
  if (!(await hasHistoryIndex(ctx))) return;
  await withAdmin(ctx, (conn) => conn.query(`ALTER TABLE \`${ctx.ordersSchema}\`.orders DROP INDEX ${HISTORY_INDEX}`));
}

/** Builds the index again (online: the table stays writable meanwhile); a no-op when it exists. */
export async function restoreHistoryIndex(ctx: FaultContext): Promise<void> {
  if (await hasHistoryIndex(ctx)) return;
  const columns = historyIndexColumns();
  await withAdmin(ctx, (conn) =>
    conn.query(`ALTER TABLE \`${ctx.ordersSchema}\`.orders ADD INDEX ${HISTORY_INDEX} (${columns})`),
  );
}

// --- poison-message and the dead-letter queues ------------------------------------------------

async function withBroker<T>(ctx: FaultContext, work: (conn: amqp.ChannelModel) => Promise<T>): Promise<T> {
  const conn = await amqp.connect(ctx.amqpUrl).catch((err: Error) => {
    throw new LabError(`RabbitMQ does not answer at ${new URL(ctx.amqpUrl).host} (${err.message})`);
  });
  try {
    return await work(conn);
  } finally {
    await conn.close();
  }
}

/** The routing key each consumer binds its queue to (declareQueue in its service): poison for it goes there. */
const CONSUMER_KEYS: Record<string, string> = { inventory: ORDER_CREATED, notifications: ORDER_PAID };

export interface PoisonRequest {
  count: number;
  /** The messages' ids; random ones when left out. */
  messageIds?: string[];
  /** The consumers to poison; every consumer when empty. */
  services: string[];
}

/** Messages that are not JSON, for each poisoned consumer's routing key; consumers dead-letter them. */
export async function publishPoison(ctx: FaultContext, request: PoisonRequest): Promise<string[]> {
  const ids = request.messageIds ?? Array.from({ length: request.count }, () => `poison-${randomUUID()}`);
  const services = request.services.length ? request.services : Object.keys(CONSUMER_KEYS);
  return withBroker(ctx, async (conn) => {
    const channel = await conn.createConfirmChannel();
    await channel.checkExchange(ctx.exchange).catch(() => {
      throw new LabError(`no exchange ${ctx.exchange}: has orders started once?`);
    });
    for (const routingKey of services.map((s) => CONSUMER_KEYS[s])) {
      for (const messageId of ids) {
        channel.publish(ctx.exchange, routingKey, Buffer.from(`{"type":"${routingKey}", "order": {`), {
          messageId,
          persistent: true,
          contentType: 'application/json',
          headers: { 'x-occurred-at': Date.now() },
        });
      }
    }
    await channel.waitForConfirms();
    return ids;
  });
}

/** Empties the consumers' dead-letter queues; answers how many messages each held. */
export async function purgeDeadLetters(ctx: FaultContext): Promise<Record<string, number>> {
  return withBroker(ctx, async (conn) => {
    const purged: Record<string, number> = {};
    for (const queue of Object.values(ctx.queues).map((q) => `${q}.dlq`)) {
      // A channel per queue: purging one that no consumer has declared yet closes its channel.
      const channel = await conn.createChannel();
      channel.on('error', () => undefined);
      const result = await channel.purgeQueue(queue).catch(() => undefined);
      if (result) purged[queue] = result.messageCount;
    }
    return purged;
  });
}

// --- noisy-client --------------------------------------------------------------------------

export interface TrafficState {
  profile: string;
  rate: number;
}

async function traffic(ctx: FaultContext, change?: Record<string, unknown>): Promise<TrafficState> {
  if (!ctx.trafficUrl) throw new LabError('no traffic generator runs in this lab');
  const url = `${ctx.trafficUrl}/${change ? 'control' : 'status'}`;
  const res = await fetch(url, {
    method: change ? 'POST' : 'GET',
    headers: { 'content-type': 'application/json' },
    body: change ? JSON.stringify(change) : undefined,
    signal: AbortSignal.timeout(5_000),
  }).catch((err: Error) => {
    throw new LabError(`the traffic generator does not answer at ${ctx.trafficUrl} (${err.message})`);
  });
  if (!res.ok) throw new LabError(`the traffic generator refused ${JSON.stringify(change)}: ${await res.text()}`);
  return (await res.json()) as TrafficState;
}

/** Switches the generator to the noisy profile (with its own API key); answers the profile and rate to go back to. */
export async function startNoisyClient(ctx: FaultContext, rate: number, apiKey?: string): Promise<TrafficState> {
  const before = await traffic(ctx);
  await traffic(ctx, { profile: 'noisy', rate, ...(apiKey && { noisyApiKey: apiKey }) });
  return { profile: before.profile === 'noisy' ? 'default' : before.profile, rate: before.rate };
}

export async function setTraffic(ctx: FaultContext, state: Partial<TrafficState>): Promise<void> {
  await traffic(ctx, state);
}

// --- bad-release ---------------------------------------------------------------------------

export const BAD_RELEASE_VERSION = '2.0.0';

/** The version an instance reports in shopnow_build_info, read from its /metrics. */
export async function runningVersion(url: string): Promise<string | undefined> {
  const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5_000) });
  return /shopnow_build_info\{[^}]*version="([^"]+)"/.exec(await res.text())?.[1];
}

export async function deployRelease(ctx: FaultContext, instance: string, errorShare: number | undefined) {
  if (!ctx.deploy) throw new LabError('this lab cannot redeploy an instance (bad-release runs in lite mode only)');
  await ctx.deploy(
    instance,
    errorShare === undefined
      ? undefined
      : { SERVICE_VERSION: BAD_RELEASE_VERSION, RELEASE_DEFECT_SHARE: String(errorShare) },
  );
}
