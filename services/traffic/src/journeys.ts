import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { JourneyName } from './profiles';

export interface User {
  email: string;
  password: string;
  /** The bearer token of its last login; the login journey renews it. */
  token?: string;
}

export interface SendInit {
  method?: 'GET' | 'POST';
  json?: unknown;
  /** Names the client to the gateway's rate limiter when nobody is signed in. */
  apiKey?: string;
  token?: string;
  idempotencyKey?: string;
}

/** What a journey may do; the generator implements it (timeouts, metrics, think time). */
export interface JourneyContext {
  /** One request; resolves with its JSON body on a 2xx, else undefined: the user gives up there. */
  send(path: string, init?: SendInit): Promise<unknown>;
  /** The pause of a person reading the page before the next click. */
  think(): Promise<void>;
  /** A whole number in [min, max]. */
  int(min: number, max: number): number;
  /** A registered user (signed in by the generator at start). */
  user(): User;
  /** The API key of an anonymous visitor, one of the profile file's `visitors`. */
  visitorKey: string;
  /** The API key of the noisy client: profiles.json's, or the one the noisy-client fault names. */
  noisyApiKey: string;
}

// Words that occur in the seeded product names (catalog's seed.ts), so searches find something.
const SEARCH_WORDS = ['lamp', 'kettle', 'backpack', 'chair', 'mug', 'notebook', 'speaker', 'sturdy', 'sleek', 'cosy'];
// The first pages of the catalog: where most visitors look, and what its cache keeps warm.
const PAGES = 5;

const productList = z.object({ products: z.array(z.object({ id: z.int().positive() })) });

/** The ids of the products a list or search answer names; none when the body is not one. */
function productIds(body: unknown): number[] {
  const parsed = productList.safeParse(body);
  return parsed.success ? parsed.data.products.map((product) => product.id) : [];
}

const pick = <T>(ctx: JourneyContext, items: readonly T[]): T => items[ctx.int(0, items.length - 1)];

async function browse(ctx: JourneyContext): Promise<void> {
  const apiKey = ctx.visitorKey;
  const ids = productIds(await ctx.send(`/api/products?page=${ctx.int(1, PAGES)}&pageSize=20`, { apiKey }));
  if (ids.length === 0) return;
  await ctx.think();
  await ctx.send(`/api/products/${pick(ctx, ids)}`, { apiKey });
}

async function search(ctx: JourneyContext): Promise<void> {
  const apiKey = ctx.visitorKey;
  const ids = productIds(await ctx.send(`/api/products/search?q=${pick(ctx, SEARCH_WORDS)}`, { apiKey }));
  if (ids.length === 0) return;
  await ctx.think();
  await ctx.send(`/api/products/${pick(ctx, ids)}`, { apiKey });
}

const loginAnswer = z.object({ token: z.string().min(1) });

async function login(ctx: JourneyContext): Promise<void> {
  const user = ctx.user();
  const answer = loginAnswer.safeParse(
    await ctx.send('/api/auth/login', { method: 'POST', json: { email: user.email, password: user.password } }),
  );
  if (!answer.success) return;
  user.token = answer.data.token;
  await ctx.think();
  await ctx.send('/api/auth/me', { token: user.token });
}

async function checkout(ctx: JourneyContext): Promise<void> {
  const { token } = ctx.user();
  const ids = productIds(await ctx.send(`/api/products?page=${ctx.int(1, PAGES)}&pageSize=20`, { token }));
  if (ids.length === 0) return;
  await ctx.think();
  const chosen = pick(ctx, ids);
  if ((await ctx.send(`/api/products/${chosen}`, { token })) === undefined) return;
  await ctx.think();
  // The product looked at, plus up to two others from the same page: 1-3 distinct lines.
  const lines = new Set([chosen]);
  for (let extra = ctx.int(0, 2); extra > 0; extra--) lines.add(pick(ctx, ids));
  const items = [...lines].map((productId) => ({ productId, quantity: ctx.int(1, 2) }));
  // A fresh key per checkout: a retry of this very order would reuse it, a new order never does.
  const placed = await ctx.send('/api/orders', {
    method: 'POST',
    json: { items },
    token,
    idempotencyKey: randomUUID(),
  });
  if (placed === undefined) return;
  await ctx.think();
  // Then the customer looks at their order history: the page the orders_user_created index serves.
  await ctx.send('/api/orders?page=1&pageSize=10', { token });
}

async function noisyClient(ctx: JourneyContext): Promise<void> {
  await ctx.send(`/api/products?page=${ctx.int(1, PAGES)}&pageSize=20`, { apiKey: ctx.noisyApiKey });
}

export const JOURNEYS: Record<JourneyName, (ctx: JourneyContext) => Promise<void>> = {
  browse,
  search,
  login,
  checkout,
  'noisy-client': noisyClient,
};
