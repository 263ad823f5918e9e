import { setConfig, showConfig, type ServiceConfig } from '../../core/actions/config';
import type { LabPaths } from '../../core/paths';
import type { Progress } from '../../core/progress';
import type { Report } from '../output';

function configReport(config: ServiceConfig, lines: string[] = []): Report<ServiceConfig> {
  return {
    data: config,
    ok: true,
    sections: [
      {
        title: `${config.service} (${config.instances.join(', ')})`,
        table: {
          head: ['SETTING', 'VALUE', 'FROM', 'WHAT IT IS'],
          rows: config.settings.map((s) => [s.key, s.value, s.source, s.description]),
        },
      },
      {
        lines: [
          ...lines,
          config.settings.length
            ? 'Change one with `lab config set <service> KEY=VALUE`: every instance is redeployed with it.'
            : `${config.service} documents no setting in .env.example.`,
        ],
      },
    ],
  };
}

export const configShow = (paths: LabPaths, service: string) => configReport(showConfig(paths, service));

export async function configSet(
  paths: LabPaths,
  service: string,
  pairs: string[],
  progress: Progress,
): Promise<Report<ServiceConfig>> {
  const config = await setConfig(paths, service, pairs, progress);
  return configReport(config, [
    `${config.instances.join(', ')} redeployed; the values stay through restarts until \`lab reset\`.`,
  ]);
}
