import { loadConfig } from '@shopnow/kit';
import { paymentsEnv } from '../src/config';

const base = { MYSQL_URL: 'mysql://payments:pw@127.0.0.1:3306/payments' };

test('the provider defaults to 40 ms and a 2 % decline rate', () => {
  expect(loadConfig(paymentsEnv, base)).toMatchObject({
    PORT: 8084,
    PROVIDER_LATENCY_MS: 40,
    PROVIDER_DECLINE_RATE: 0.02,
  });
});

test('a decline rate outside 0..1 stops the start, naming the variable', () => {
  expect(() => loadConfig(paymentsEnv, { ...base, PROVIDER_DECLINE_RATE: '1.5' })).toThrow(/PROVIDER_DECLINE_RATE/);
});
