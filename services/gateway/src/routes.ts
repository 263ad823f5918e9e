/**
 * The route table: which public path goes to which service, and who may call it. It is plain data
 * so that a learner can read the gateway's whole surface in one screen. A path that is not in the
 * table is the gateway's own 404: unknown paths never reach a service (nor mint metric labels).
 */
export type UpstreamName = 'auth' | 'catalog' | 'orders';

/** public: anyone; user: a valid JWT; admin: a valid JWT carrying the admin role. */
export type Access = 'public' | 'user' | 'admin';

export interface Route {
  /** The Express template, also the `route` label of the RED metrics. */
  path: string;
  upstream: UpstreamName;
  /** Access by method; a method not listed needs a signed-in user. */
  access: Partial<Record<string, Access>>;
}

const READS: Partial<Record<string, Access>> = { GET: 'public', HEAD: 'public' };

export const ROUTES: readonly Route[] = [
  { path: '/api/auth/register', upstream: 'auth', access: { POST: 'public' } },
  { path: '/api/auth/login', upstream: 'auth', access: { POST: 'public' } },
  { path: '/api/auth/me', upstream: 'auth', access: {} },
  { path: '/api/products', upstream: 'catalog', access: READS },
  // Before /:id, so that "search" is not taken for an id.
  { path: '/api/products/search', upstream: 'catalog', access: READS },
  { path: '/api/products/:id', upstream: 'catalog', access: { ...READS, PUT: 'admin' } },
  { path: '/api/orders', upstream: 'orders', access: {} },
  { path: '/api/orders/:id', upstream: 'orders', access: {} },
];

export const accessOf = (route: Route, method: string): Access => route.access[method] ?? 'user';

/** Only requests that are safe to send twice are retried; a POST is never (it could charge twice). */
export const RETRYABLE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD']);

/** Services serve `/products/42`; the gateway publishes them under `/api`. Keeps the query string. */
export const servicePath = (originalUrl: string): string => originalUrl.replace(/^\/api(?=\/)/, '');
