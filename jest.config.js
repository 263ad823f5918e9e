/** One jest run for every workspace; TypeScript through ts-jest, the kit resolved from source. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/services', '<rootDir>/test'],
  testMatch: ['**/test/**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.test.json' }] },
  moduleNameMapper: { '^@shopnow/kit$': '<rootDir>/services/kit/src/index.ts' },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  testTimeout: 30_000,
  // The suites share one MySQL, Redis and RabbitMQ; two workers fit this 2-core machine.
  maxWorkers: 2,
};
