import { Writable } from 'node:stream';
import winston from 'winston';
import { createLogger, logMessageBytes, logMessages } from '../src/logger';

function capture(): { logger: winston.Logger; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const logger = createLogger('test-service', 'debug');
  logger.clear().add(
    new winston.transports.Stream({
      stream: new Writable({
        write(chunk, _encoding, done) {
          chunks.push(chunk.toString());
          done();
        },
      }),
    }),
  );
  return {
    logger,
    lines: () =>
      chunks
        .join('')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line)),
  };
}

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl';

describe('createLogger', () => {
  it('writes one JSON object per line with service, level, message and fields', () => {
    const { logger, lines } = capture();
    logger.info('order placed', { orderId: 'o-1', totalCents: 1200 });
    expect(lines()).toEqual([
      expect.objectContaining({
        service: 'test-service',
        level: 'info',
        message: 'order placed',
        orderId: 'o-1',
        totalCents: 1200,
      }),
    ]);
    expect(typeof lines()[0].timestamp).toBe('string');
  });

  it('masks fields that name a secret, at any depth', () => {
    const { logger, lines } = capture();
    logger.info('login', {
      password: 'hunter22',
      user: { email: 'a@b.c', apiKey: 'k-123' },
      headers: { authorization: 'Bearer x' },
    });
    const line = JSON.stringify(lines()[0]);
    expect(line).not.toMatch(/hunter22|k-123|Bearer x/);
    expect(lines()[0]).toMatchObject({ password: '[REDACTED]', user: { email: 'a@b.c', apiKey: '[REDACTED]' } });
  });

  it('masks JWTs and URL passwords inside messages and values', () => {
    const { logger, lines } = capture();
    logger.warn(`token ${JWT} rejected`, { url: 'amqp://guest:s3cret@127.0.0.1:5672', note: `got ${JWT}` });
    const line = JSON.stringify(lines()[0]);
    expect(line).not.toContain(JWT);
    expect(line).not.toContain('s3cret');
    expect(lines()[0].url).toBe('amqp://guest:[REDACTED]@127.0.0.1:5672');
  });

  it('logs errors by name and message, without secrets in the message', () => {
    const { logger, lines } = capture();
    logger.error('failed', { err: new Error(`connect mysql://orders:pw123@db failed`) });
    expect(lines()[0].err).toEqual({ name: 'Error', message: 'connect mysql://orders:[REDACTED]@db failed' });
  });
});

describe('log volume metrics', () => {
  const valueAt = async (counter: typeof logMessages, level: string) =>
    (await counter.get()).values.find((v) => v.labels.level === level)?.value ?? 0;

  it('count the lines and bytes that reach stdout, by level, after the level filter', async () => {
    const written: string[] = [];
    // Where winston's Console transport writes: Node's console._stdout (Jest's own, under Jest).
    const { _stdout: out } = console as unknown as { _stdout: NodeJS.WriteStream };
    const stdout = jest.spyOn(out, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    try {
      const before = { info: await valueAt(logMessages, 'info'), bytes: await valueAt(logMessageBytes, 'info') };
      const debugBefore = await valueAt(logMessages, 'debug');
      const logger = createLogger('test-service', 'info');
      logger.debug('dropped at level info');
      logger.info('kept', { n: 1 });
      logger.info('kept', { n: 2, headers: { accept: '*/*' } });
      await new Promise((resolve) => setImmediate(resolve));
      expect(written).toHaveLength(2);
      expect(await valueAt(logMessages, 'info')).toBe(before.info + 2);
      expect(await valueAt(logMessages, 'debug')).toBe(debugBefore);
      expect(await valueAt(logMessageBytes, 'info')).toBe(
        before.bytes + written.reduce((sum, line) => sum + Buffer.byteLength(line), 0),
      );
    } finally {
      stdout.mockRestore();
    }
  });
});
