import http from 'node:http';
import { bearer, signToken, startDouble, startGateway, type Double, type Running } from './gateway';

/**
 * A body the gateway refuses before forwarding it (too large, no token, no route, wrong method) is
 * still read and dropped before the answer, so the client always gets the JSON error: never a
 * reset while it is still sending (RFC 9112 section 9.6), whatever the size or framing.
 */
jest.setTimeout(120_000);

const LIMIT = 16 * 1024;
const KiB = 1024;
const MiB = 1024 * KiB;

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  code?: string;
  reusedSocket: boolean;
}

/**
 * Sends `size` bytes in 64 KiB writes (with Content-Length, or chunked without one), honouring
 * back-pressure like a real uploader, and resolves with the answer; a reset rejects.
 */
function upload(
  base: string,
  options: {
    method?: string;
    path?: string;
    size: number;
    chunked: boolean;
    headers?: Record<string, string>;
    agent?: http.Agent | false;
  },
): Promise<Answer> {
  const { method = 'POST', path = '/api/orders', size, chunked, agent = false } = options;
  const url = new URL(base);
  const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
  // Said outright: node:http would send a GET's or a TRACE's body unframed otherwise.
  if (chunked) headers['transfer-encoding'] = 'chunked';
  else headers['content-length'] = String(size);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, method, path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        let code: string | undefined;
        try {
          code = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { error?: { code?: string } }).error?.code;
        } catch {
          code = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, code, reusedSocket: req.reusedSocket });
      });
    });
    req.on('error', reject);
    const piece = Buffer.alloc(64 * KiB, 'x');
    let sent = 0;
    const write = () => {
      while (sent < size) {
        const part = piece.subarray(0, Math.min(piece.length, size - sent));
        sent += part.length;
        if (!req.write(part)) return void req.once('drain', write);
      }
      req.end();
    };
    write();
  });
}

let orders: Double;
let gateway: Running;
let token: string;

beforeAll(async () => {
  orders = await startDouble();
  gateway = await startGateway({ urls: { orders: [orders.url] }, proxy: { bodyLimitBytes: LIMIT } });
  token = await signToken();
});

afterAll(async () => {
  await gateway?.stop();
  await orders?.close();
});

const SIZES = [20 * KiB, 1 * MiB, 8 * MiB];

describe.each([
  ['with Content-Length', false],
  ['chunked, without Content-Length', true],
])('a body over the limit, %s', (_framing, chunked) => {
  it.each(SIZES)('of %d bytes always gets the 413 JSON, on new and kept-alive connections', async (size) => {
    const before = orders.seen.length;
    const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const answers: Answer[] = [];
      // A fresh connection each time (the client says close), then one connection kept alive.
      for (let i = 0; i < 4; i += 1)
        answers.push(await upload(gateway.base, { size, chunked, headers: bearer(token), agent: false }));
      for (let i = 0; i < 4; i += 1)
        answers.push(await upload(gateway.base, { size, chunked, headers: bearer(token), agent: keepAlive }));
      expect(answers.map(({ status, code }) => `${status} ${code}`)).toEqual(
        answers.map(() => '413 PAYLOAD_TOO_LARGE'),
      );
      expect(answers.every((answer) => answer.headers['content-type']?.startsWith('application/json'))).toBe(true);
      // The body was read to its end, so the kept-alive connection carried every later request.
      expect(answers.slice(5).map((answer) => answer.reusedSocket)).toEqual([true, true, true]);
      expect(orders.seen.length).toBe(before);
    } finally {
      keepAlive.destroy();
    }
  });
});

it('reads the body before every other refusal too: no route, no token, a method it refuses, one it cannot parse', async () => {
  const cases: Array<[string, { method?: string; path?: string; headers?: Record<string, string> }, string]> = [
    ['no route', { path: '/api/nowhere' }, '404 ROUTE_NOT_FOUND'],
    ['no token', { path: '/api/orders' }, '401 UNAUTHORIZED'],
    ['TRACE', { method: 'TRACE', path: '/api/orders', headers: bearer(token) }, '405 METHOD_NOT_ALLOWED'],
    ['an invented method', { method: 'FOO', path: '/api/orders' }, '400 BAD_REQUEST'],
    ['the plumbing', { method: 'GET', path: '/gateway/upstreams' }, '200 undefined'],
  ];
  for (const [what, request, expected] of cases) {
    for (const size of [1 * MiB, 8 * MiB]) {
      for (const chunked of [false, true]) {
        const answer = await upload(gateway.base, { ...request, size, chunked });
        expect([what, size, chunked, `${answer.status} ${answer.code}`]).toEqual([what, size, chunked, expected]);
      }
    }
  }
});

it('answers a GET or HEAD whose body came without a length, and nothing else after it', async () => {
  // node:http sends such a body unframed: to the server it is no body but the start of a next
  // request that cannot parse. The client must get the answer to the request it made, cleanly.
  const url = new URL(gateway.base);
  const plain = (method: string, path: string, body: string) =>
    new Promise<string>((resolve) => {
      const req = http.request({ host: url.hostname, port: url.port, method, path, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(String(res.statusCode)));
        res.on('error', (err: Error & { code?: string }) => resolve(`${err.code}`));
      });
      req.on('error', (err: Error & { code?: string }) => resolve(`${err.code} ${err.message}`));
      req.end(body);
    });
  const answers: string[] = [];
  for (const body of ['garbage', 'x'.repeat(100 * KiB)])
    for (let i = 0; i < 10; i += 1) {
      answers.push(`HEAD ${await plain('HEAD', '/api/nowhere', body)}`);
      answers.push(`GET ${await plain('GET', '/gateway/upstreams', body)}`);
    }
  expect(answers.filter((answer) => !['HEAD 404', 'GET 200'].includes(answer))).toEqual([]);
});

it('still forwards a body within the limit, byte for byte', async () => {
  const before = orders.seen.length;
  const answer = await upload(gateway.base, { size: LIMIT, chunked: true, headers: bearer(token) });
  expect(answer.status).toBe(200);
  expect(orders.seen.length).toBe(before + 1);
  expect(orders.seen.at(-1)?.body.length).toBe(LIMIT);
});

describe('a client that stops sending', () => {
  let patient: Running;

  beforeAll(async () => {
    patient = await startGateway({
      urls: { orders: [orders.url] },
      proxy: { bodyLimitBytes: LIMIT },
      drain: { maxBytes: 16 * MiB, maxMs: 300 },
    });
  });

  afterAll(async () => {
    await patient?.stop();
  });

  it('is answered once the wait for the rest of its body runs out, and the connection closed', async () => {
    const url = new URL(patient.base);
    const answer = await new Promise<Answer & { body: string }>((resolve, reject) => {
      const req = http.request(
        {
          host: url.hostname,
          port: url.port,
          method: 'POST',
          path: '/api/orders',
          headers: { ...bearer(token), 'content-length': String(1 * MiB) },
          agent: false,
        },
        (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
          res.on('end', () => {
            req.destroy();
            resolve({ status: res.statusCode ?? 0, headers: res.headers, reusedSocket: false, body });
          });
        },
      );
      req.on('error', reject);
      // A few bytes of the promised megabyte, then nothing more.
      req.write(Buffer.alloc(1 * KiB, 'x'));
    });
    expect(answer.status).toBe(413);
    expect(answer.headers.connection).toBe('close');
    expect(JSON.parse(answer.body)).toEqual({ error: expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE' }) });
  });
});
