/** One jest run for every workspace; TypeScript through ts-jest, the kit and the lab resolved from source. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/services', '<rootDir>/lab', '<rootDir>/test'],
  testMatch: ['**/test/**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.test.json' }],
    // jose 6 ships only ES modules, which Jest's CommonJS sandbox cannot require() without
    // --experimental-vm-modules; compile it to CommonJS like our own sources instead.
    '/node_modules/jose/.+\\.js$': ['ts-jest', { tsconfig: { allowJs: true, module: 'commonjs' }, diagnostics: false }],
  },
  transformIgnorePatterns: ['/node_modules/(?!jose/)'],
  moduleNameMapper: {
    '^@shopnow/kit$': '<rootDir>/services/kit/src/index.ts',
    '^@shopnow/kit/(amqp|mysql|redis)$': '<rootDir>/services/kit/src/$1.ts',
    // The exercises (exercises/dist, loaded by the runner) reach the lab through its public export:
    // mapped to the source, they run against the same modules as the test, never a stale build.
    '^lab/exercise-api$': '<rootDir>/lab/src/exercise-api.ts',
  },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  testTimeout: 30_000,
  // The suites share one MySQL, Redis and RabbitMQ; two workers fit this 2-core machine.
  maxWorkers: 2,
};
