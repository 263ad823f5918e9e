import { SCHEMA_SERVICES, type SchemaService } from '../../lab/src/core/topology';

/**
 * Where the real backends of the tests are: the ones answering on their usual ports (or those
 * named by the same variables the lab reads). Tests use their own schemas and users (test_*),
 * so running the suite never touches the data of a lab that is up on the same machine.
 */
export const MYSQL_ADMIN_URL = process.env.MYSQL_ADMIN_URL ?? 'mysql://root@127.0.0.1:3306';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/** The services that own a schema, as the lab's manifest (lab/src/core/topology.ts) lists them. */
export const SERVICES_WITH_SCHEMA = SCHEMA_SERVICES;
export type ServiceWithSchema = SchemaService;

/** `test_<service>` for the integration tests, `e2e_<service>` for the end-to-end runs. */
export function testDatabase(service: ServiceWithSchema, prefix: 'test' | 'e2e' = 'test') {
  const schema = `${prefix}_${service}`;
  const password = `${prefix}-password-${service}`;
  const admin = new URL(MYSQL_ADMIN_URL);
  const url = `mysql://${schema}:${password}@${admin.host}/${schema}`;
  return { schema, user: schema, password, url };
}
