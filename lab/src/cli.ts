/**
 * The `lab` command table. Each command returns a Report; this file only wires options to
 * commands and reports to the renderer, and turns failures into exit codes:
 * 0 ok, 1 failed, 2 usage.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { down } from './commands/down';
import { logs } from './commands/logs';
import { pages } from './commands/pages';
import { status } from './commands/status';
import { traffic, trafficAction } from './commands/traffic';
import { up } from './commands/up';
import { UsageError } from './errors';
import { MODES, type Mode } from './mode';
import { colorWanted, print, printError, progressTo, type Report } from './output';
import { labPaths } from './paths';

const paths = labPaths();
const progress = progressTo();

async function run(json: boolean, command: () => Promise<Report> | Report): Promise<void> {
  const report = await command();
  print(report, { json, color: colorWanted(process.stdout) });
  if (!report.ok) process.exitCode = 1;
}

const positiveInt = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expects a positive whole number');
  return n;
};

const program = new Command('lab')
  .description('The ShopNow observability lab: bring it up, look at it, drive traffic.')
  .showHelpAfterError()
  .exitOverride();

program
  .command('up')
  .description('Start the lab (Docker, or lite mode when no Docker engine answers) and wait until it is healthy')
  .addOption(new Option('--mode <mode>', 'docker or native (default: LAB_MODE, else auto-detected)').choices(MODES))
  .option('--json', 'print the result as JSON')
  .action((options: { mode?: Mode; json?: boolean }) =>
    run(Boolean(options.json), () => up(paths, { mode: options.mode }, progress)),
  );

program
  .command('down')
  .description('Stop every lab process (and the backends the lab itself started)')
  .option('--json', 'print the result as JSON')
  .action((options: { json?: boolean }) => run(Boolean(options.json), () => down(paths, progress)));

program
  .command('status')
  .description('Which components are healthy, their URLs, what lite mode lacks, the alerts firing now')
  .option('--json', 'print the status as JSON')
  .action((options: { json?: boolean }) => run(Boolean(options.json), () => status(paths)));

program
  .command('pages')
  .description('The pages Alertmanager delivered to the lab webhook')
  .option('--json', 'print the pages as JSON')
  .action((options: { json?: boolean }) => run(Boolean(options.json), () => pages(paths)));

program
  .command('logs')
  .description("A service's JSON log lines from .lab/logs/ (lite mode), filtered")
  .argument('<service>', 'a service (catalog: both replicas) or an instance (catalog-2)')
  .option('--trace <trace_id>', 'only the lines of this trace')
  .option('--grep <text>', 'only the lines containing this text')
  .option('--tail <n>', 'at most the last n lines', positiveInt, 200)
  .option('--json', 'print the lines as JSON')
  .action((service: string, options: { trace?: string; grep?: string; tail: number; json?: boolean }) =>
    run(Boolean(options.json), () => logs(paths, service, options)),
  );

program
  .command('traffic')
  .description('Drive the traffic generator: start, stop, or set its rate')
  .argument('<action>', 'start | stop | rate')
  .argument('[n]', 'requests per second (for rate)')
  .option('--json', 'print the generator state as JSON')
  .action((action: string, n: string | undefined, options: { json?: boolean }) =>
    run(Boolean(options.json), () => traffic(paths, trafficAction(action, n))),
  );

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) {
    // Help and version are not failures; anything else Commander rejects is a usage error.
    process.exitCode = ['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(err.code) ? 0 : 2;
    return;
  }
  printError(err instanceof Error ? err.message : String(err));
  process.exitCode = err instanceof UsageError ? 2 : 1;
});
