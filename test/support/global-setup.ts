import { provisionSchema } from '../../services/kit/src/mysql';
import { MYSQL_ADMIN_URL, SERVICES_WITH_SCHEMA, testDatabase } from './backends';

/** Database per service, for the tests too: one schema and one user each. */
export default async function globalSetup(): Promise<void> {
  for (const service of SERVICES_WITH_SCHEMA) {
    for (const prefix of ['test', 'e2e'] as const) {
      const { schema, user, password } = testDatabase(service, prefix);
      await provisionSchema(MYSQL_ADMIN_URL, schema, user, password);
    }
  }
}
