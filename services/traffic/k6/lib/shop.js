// What the numbered scripts share: the journeys of services/traffic/src/journeys.ts in k6 terms, and
// scenario options computed from a profile of services/traffic/profiles.json (the native generator's data).
/* global __ENV, __VU, __ITER -- k6 globals */
import { sleep } from 'k6';
import http from 'k6/http';

// Types for `make lint` (tsc with @types/k6, k6/tsconfig.json): the profiles are the native
// generator's own type, so a script that reads a field the schema does not have fails there.
/** @typedef {import('../../src/profiles').ProfilesFile} Lab */
/** @typedef {import('../../src/profiles').Profile} Profile */
/** @typedef {import('../../src/profiles').JourneyName} JourneyName */
/** @typedef {{ email: string, password: string, token?: string }} User */
/** @typedef {(lab: Lab, profile: Profile, users: User[]) => void} Journey */

const BASE_URL = __ENV.BASE_URL || 'http://gateway:8080';
const USERS = Number(__ENV.USERS || 20);
// Words in the seeded product names, so that searches find something (as in journeys.ts).
const SEARCH_WORDS = ['lamp', 'kettle', 'backpack', 'chair', 'mug', 'notebook', 'speaker', 'sturdy', 'sleek', 'cosy'];
const PAGES = 5;
// The native generator's bound on journeys under way.
const MAX_VUS = 200;

/** @type {(min: number, max: number) => number} */
const int = (min, max) => min + Math.floor(Math.random() * (max - min + 1));
/** @type {<T>(items: T[]) => T} */
const pick = (items) => items[int(0, items.length - 1)];
/** Weights as [journey, weight] pairs: profiles.json may leave a journey out. */
const weightsOf = (/** @type {Profile} */ profile) =>
  /** @type {Array<[JourneyName, number]>} */ (Object.entries(profile.weights));

/**
 * profile.rate is requests/s; k6 counts journeys (iterations), so divide by requests per journey.
 * @param {Lab} lab
 * @param {string} profileName
 */
export function scenarioOptions(lab, profileName) {
  const profile = lab.profiles[profileName];
  if (!profile) throw new Error(`unknown traffic profile "${profileName}"`);
  let weight = 0;
  let requests = 0;
  for (const [name, w] of weightsOf(profile)) {
    weight += w;
    requests += w * lab.journeys[name].requests;
  }
  const perMinute = Math.max(1, Math.round((profile.rate * 60 * weight) / requests));
  return {
    scenarios: {
      shop: {
        executor: 'constant-arrival-rate',
        // Per minute, because k6 takes a whole number: 2.4 journeys/s stays 143 a minute.
        rate: perMinute,
        timeUnit: '1m',
        duration: __ENV.DURATION || '10m',
        // A journey takes ~3 s with its think times: 20 a minute per VU.
        preAllocatedVUs: Math.min(MAX_VUS, Math.ceil(perMinute / 20) + 2),
        maxVUs: MAX_VUS,
      },
    },
    // The checkout SLOs of docs: under 0.5% of orders answered 5xx, 99% of them within 1 s.
    thresholds: {
      'http_req_failed{slo:checkout}': ['rate<0.005'],
      'http_req_duration{slo:checkout}': ['p(99)<1000'],
    },
  };
}

/** Registers USERS users with random passwords and signs them in; the iterations share them. */
export function enrolUsers() {
  const run = Math.random().toString(36).slice(2, 10);
  const users = [];
  for (let i = 1; i <= USERS; i++) {
    const user = { email: `k6-${run}-${i}@shopnow.test`, password: `${Math.random().toString(36).slice(2)}Aa1!k6` };
    post('/api/auth/register', { ...user, name: `k6 user ${i}` }, { tags: { journey: 'setup' } });
    const res = post('/api/auth/login', user, { tags: { journey: 'setup' } });
    if (res.status === 200) users.push({ ...user, token: field(res, 'token') });
  }
  if (users.length === 0) throw new Error(`could not enrol any user at ${BASE_URL}`);
  return { users };
}

/**
 * @param {string} path
 * @param {object} body
 * @param {import('k6/http').Params} params
 */
function post(path, body, params) {
  const headers = { 'content-type': 'application/json', ...(params.headers || {}) };
  return http.post(`${BASE_URL}${path}`, JSON.stringify(body), { ...params, headers });
}

/** @type {(path: string, params: import('k6/http').Params) => import('k6/http').Response} */
const get = (path, params) => http.get(`${BASE_URL}${path}`, params);
/** @type {(res: import('k6/http').Response) => boolean} */
const ok = (res) => res.status >= 200 && res.status < 300;
/** A field of a JSON answer (the shop's answers are objects). */
const field = (/** @type {import('k6/http').Response} */ res, /** @type {string} */ name) =>
  /** @type {Record<string, any>} */ (res.json())[name];
/** @type {(res: import('k6/http').Response) => number[]} */
const productIds = (res) =>
  ok(res) ? (field(res, 'products') || []).map((/** @type {{ id: number }} */ product) => product.id) : [];
// `name` groups URLs by route, so ids and pages do not mint a time series each.
/** @type {(journey: string, name: string, headers?: Record<string, string>) => import('k6/http').Params} */
const params = (journey, name, headers) => ({ headers, tags: { journey, name } });
/** @type {(user: User) => Record<string, string>} */
const bearer = (user) => ({ authorization: `Bearer ${user.token}` });

/** @param {Profile} profile */
function think(profile) {
  sleep(int(profile.thinkTimeMs.min, profile.thinkTimeMs.max) / 1000);
}

/** @type {Record<JourneyName, Journey>} */
const JOURNEYS = {
  browse(lab, profile) {
    const key = { 'x-api-key': `lab-visitor-${int(1, lab.visitors)}` };
    const ids = productIds(
      get(`/api/products?page=${int(1, PAGES)}&pageSize=20`, params('browse', '/api/products', key)),
    );
    if (ids.length === 0) return;
    think(profile);
    get(`/api/products/${pick(ids)}`, params('browse', '/api/products/:id', key));
  },
  search(lab, profile) {
    const key = { 'x-api-key': `lab-visitor-${int(1, lab.visitors)}` };
    const ids = productIds(
      get(`/api/products/search?q=${pick(SEARCH_WORDS)}`, params('search', '/api/products/search', key)),
    );
    if (ids.length === 0) return;
    think(profile);
    get(`/api/products/${pick(ids)}`, params('search', '/api/products/:id', key));
  },
  login(_lab, profile, users) {
    const user = pick(users);
    const res = post(
      '/api/auth/login',
      { email: user.email, password: user.password },
      params('login', '/api/auth/login'),
    );
    if (!ok(res)) return;
    user.token = field(res, 'token');
    think(profile);
    get('/api/auth/me', params('login', '/api/auth/me', bearer(user)));
  },
  checkout(_lab, profile, users) {
    const auth = bearer(pick(users));
    const ids = productIds(
      get(`/api/products?page=${int(1, PAGES)}&pageSize=20`, params('checkout', '/api/products', auth)),
    );
    if (ids.length === 0) return;
    think(profile);
    const chosen = pick(ids);
    if (!ok(get(`/api/products/${chosen}`, params('checkout', '/api/products/:id', auth)))) return;
    think(profile);
    const lines = new Set([chosen]);
    for (let extra = int(0, 2); extra > 0; extra--) lines.add(pick(ids));
    const items = [...lines].map((productId) => ({ productId, quantity: int(1, 2) }));
    const placed = post(
      '/api/orders',
      { items },
      {
        headers: { ...auth, 'idempotency-key': `k6-${__VU}-${__ITER}-${Date.now()}` },
        tags: { journey: 'checkout', name: 'POST /api/orders', slo: 'checkout' },
        // As in the SLO, only a 5xx spends the error budget; a 4xx is the client's doing.
        responseCallback: http.expectedStatuses({ min: 200, max: 499 }),
      },
    );
    if (!ok(placed)) return;
    think(profile);
    get('/api/orders?page=1&pageSize=10', params('checkout', '/api/orders', auth));
  },
  'noisy-client'(lab) {
    const key = { 'x-api-key': lab.journeys['noisy-client'].apiKey };
    get(`/api/products?page=${int(1, PAGES)}&pageSize=20`, params('noisy-client', '/api/products', key));
  },
};

export const JOURNEY_NAMES = Object.keys(JOURNEYS);

/**
 * One iteration = one journey, picked by the profile's weights.
 * @param {Lab} lab
 * @param {string} profileName
 * @returns {(data: { users: User[] }) => void}
 */
export function journeyRunner(lab, profileName) {
  const profile = lab.profiles[profileName];
  const entries = weightsOf(profile).filter(([, weight]) => weight > 0);
  const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
  return (data) => {
    let point = Math.random() * total;
    const [name] = entries.find(([, weight]) => (point -= weight) < 0) || entries[entries.length - 1];
    JOURNEYS[name](lab, profile, data.users);
  };
}
