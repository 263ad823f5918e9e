/**
 * `make test-unit`: only the tests named *.unit.test.ts — those that start no lab and use no
 * backend (MySQL, Redis, RabbitMQ, Prometheus, Alertmanager), so they run anywhere, in seconds.
 * Without the global setup, which provisions the test schemas in MySQL.
 */
const base = require('./jest.config');

module.exports = { ...base, testMatch: ['**/test/**/*.unit.test.ts'], globalSetup: undefined };
