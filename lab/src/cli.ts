/**
 * The `lab` command table. Each command returns a Report; this file only wires options to
 * commands and reports to the renderer, and turns failures into exit codes:
 * 0 ok, 1 failed, 2 usage.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { dlqList, dlqPurge, dlqReplay } from './commands/dlq';
import { down } from './commands/down';
import { faultClear, faultInject, faultList, faultsActive, parseSetting, reset } from './commands/fault';
import {
  exerciseAnswer,
  exerciseCheck,
  exerciseForget,
  exerciseHint,
  exerciseProgress,
  exercisesList,
  exerciseSolution,
  exerciseStart,
} from './commands/exercises';
import { logs } from './commands/logs';
import { restart } from './commands/restart';
import { rulesLoad, rulesUnload } from './commands/rules';
import { rollback } from './commands/rollback';
import { redisCommand } from './commands/redis';
import { sql } from './commands/sql';
import { labRuntime } from './exercises/runner';
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
// Built on first use: it loads the exercise definitions from exercises/dist.
const exercises = () => labRuntime(paths, progress);

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
  .description("The services' JSON log lines from .lab/logs/ (lite mode), filtered")
  .argument('[service]', 'a service (catalog: both replicas) or an instance (catalog-2); all services if left out')
  .option('--trace <trace_id>', 'only the lines of this trace')
  .option('--grep <text>', 'only the lines containing this text')
  .option('--tail <n>', 'at most the last n lines', positiveInt, 200)
  .option('--json', 'print the lines as JSON')
  .action((service: string | undefined, options: { trace?: string; grep?: string; tail: number; json?: boolean }) =>
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

const fault = program.command('fault').description('Inject, list and clear faults (the catalogue: `lab fault list`)');

fault
  .command('list')
  .description('Every fault the lab can inject: where it acts, its options and their defaults')
  .option('--json', 'print the catalogue as JSON')
  .action((options: { json?: boolean }) => run(Boolean(options.json), () => faultList()));

fault
  .command('inject')
  .description('Inject a fault, on every instance of a service or on one instance')
  .argument('<name>', 'a fault from `lab fault list`')
  .option('--service <service>', 'the service it acts on (every instance of it)')
  .option('--instance <instance>', 'one instance only (catalog-2)')
  .option('--set <key=value>', 'an option of the fault, repeatable (--set ms=800 --set share=0.5)', parseSetting, {})
  .option('--json', 'print the result as JSON')
  .action(
    (name: string, options: { service?: string; instance?: string; set: Record<string, unknown>; json?: boolean }) =>
      run(Boolean(options.json), () => faultInject(paths, name, options, progress)),
  );

fault
  .command('clear')
  .description('Clear one fault, or every fault, everywhere or on one instance')
  .argument('[name]', 'the fault to clear (default: all)')
  .option('--instance <instance>', 'only on this instance')
  .option('--json', 'print the result as JSON')
  .action((name: string | undefined, options: { instance?: string; json?: boolean }) =>
    run(Boolean(options.json), () => faultClear(paths, name, options)),
  );

program
  .command('faults')
  .description('The faults active now, in every instance and on the lab side')
  .option('--json', 'print them as JSON')
  .action((options: { json?: boolean }) => run(Boolean(options.json), () => faultsActive(paths)));

program
  .command('reset')
  .description(
    'Clear every fault and restore the lab (index, releases, traffic, dead-letter queues), then wait until healthy',
  )
  .argument('[exercise]', "also forget this exercise's attempt (default: the one under way)")
  .option('--json', 'print the result as JSON')
  .action((exercise: string | undefined, options: { json?: boolean }) =>
    run(Boolean(options.json), async () => {
      const lab = await reset(paths, progress);
      const forgot = exerciseForget(exercises(), exercise);
      return { data: { ...lab.data, ...forgot.data }, ok: lab.ok, sections: [...lab.sections, ...forgot.sections] };
    }),
  );

program
  .command('restart')
  .description('Restart one instance (its in-memory state, runtime faults included, is gone)')
  .argument('<instance>', 'an instance: catalog-2, orders ...')
  .option('--json', 'print the result as JSON')
  .action((instance: string, options: { json?: boolean }) =>
    run(Boolean(options.json), () => restart(paths, instance, progress)),
  );

program
  .command('rollback')
  .description('Redeploy one instance as its planned release (lite mode): the way back from a bad canary')
  .argument('<instance>', 'an instance: catalog-2, orders ...')
  .option('--json', 'print the result as JSON')
  .action((instance: string, options: { json?: boolean }) =>
    run(Boolean(options.json), () => rollback(paths, instance, progress)),
  );

program
  .command('sql')
  .description("Run one SQL statement as a service's own MySQL user, in its own schema")
  .argument('<service>', 'a service that owns a schema: orders, catalog ...')
  .argument('<statement>', 'the statement, quoted')
  .option('--json', 'print the result as JSON')
  .action((service: string, statement: string, options: { json?: boolean }) =>
    run(Boolean(options.json), () => sql(paths, service, statement)),
  );

program
  .command('redis')
  .description("Run one command on the lab's Redis, as redis-cli would (SCAN, TTL, DBSIZE, INFO commandstats ...)")
  .argument('<command...>', 'the command and its arguments: SCAN 0 MATCH "catalog:*" COUNT 1000')
  .option('--json', 'print the reply as JSON')
  .action((command: string[], options: { json?: boolean }) =>
    run(Boolean(options.json), () => redisCommand(paths, command)),
  );

const dlq = program
  .command('dlq')
  .description("The consumers' dead-letter queues: read what they rejected, then purge or replay it");

dlq
  .command('list', { isDefault: true })
  .description('Each dead-letter queue of the lab: its messages, with id, routing key, reason and a body preview')
  .option('--limit <n>', 'at most n messages shown per queue', positiveInt, 20)
  .option('--json', 'print them as JSON')
  .action((options: { limit: number; json?: boolean }) =>
    run(Boolean(options.json), () => dlqList(paths, options.limit)),
  );

dlq
  .command('purge')
  .description('Drop every message of one dead-letter queue (read them first: they are gone after)')
  .argument('<queue>', 'a dead-letter queue from `lab dlq` (or the queue it serves)')
  .option('--json', 'print the result as JSON')
  .action((queue: string, options: { json?: boolean }) => run(Boolean(options.json), () => dlqPurge(paths, queue)));

dlq
  .command('replay')
  .description('Send every message of one dead-letter queue back to the queue it came from, to be consumed again')
  .argument('<queue>', 'a dead-letter queue from `lab dlq` (or the queue it serves)')
  .option('--json', 'print the result as JSON')
  .action((queue: string, options: { json?: boolean }) => run(Boolean(options.json), () => dlqReplay(paths, queue)));

const rules = program
  .command('rules')
  .description("Your own alerting rules (exercises/NN-slug/answer.rules.yml) in and out of the lab's Prometheus");

rules
  .command('load')
  .description(
    'Check every answer.rules.yml with promtool, install them and reload Prometheus (nothing changes if one is refused)',
  )
  .option('--json', 'print the loaded alerts as JSON')
  .action((options: { json?: boolean }) => run(Boolean(options.json), () => rulesLoad(paths)));

rules
  .command('unload')
  .description('Take your rules out of Prometheus again (your files stay); `lab reset` does it too')
  .option('--json', 'print the result as JSON')
  .action((options: { json?: boolean }) => run(Boolean(options.json), () => rulesUnload(paths)));

program
  .command('exercises')
  .description('The exercises, their topics, signals, modes and your status')
  .option('--json', 'print them as JSON')
  .action((options: { json?: boolean }) => run(Boolean(options.json), () => exercisesList(exercises())));

program
  .command('start')
  .description('Start an exercise: resets the lab, then breaks it (randomised; --seed reproduces a start)')
  .argument('<NN>', 'the exercise number')
  .option('--seed <n>', 'the random seed', (value) => {
    if (!/^\d{1,9}$/.test(value)) throw new InvalidArgumentError('expects a whole number');
    return Number(value);
  })
  .option('--json', 'print the start as JSON')
  .action((nn: string, options: { seed?: number; json?: boolean }) =>
    run(Boolean(options.json), () => exerciseStart(exercises(), nn, options.seed)),
  );

program
  .command('hint')
  .description("The exercise's next hint (one section of its hints.md each time)")
  .argument('<NN>', 'the exercise number')
  .option('--json', 'print the hint as JSON')
  .action((nn: string, options: { json?: boolean }) => run(Boolean(options.json), () => exerciseHint(exercises(), nn)));

program
  .command('answer')
  .description('Record answers: lab answer NN key=value ... (or write them in exercises/NN-slug/answers.txt)')
  .argument('<NN>', 'the exercise number')
  .argument('<key=value...>', 'one or more answers')
  .option('--json', 'print the recorded answers as JSON')
  .action((nn: string, pairs: string[], options: { json?: boolean }) =>
    run(Boolean(options.json), () => exerciseAnswer(exercises(), nn, pairs)),
  );

program
  .command('check')
  .description('Grade the exercise: diagnosis, evidence and fix, each with what is still wrong (exit 0 on a pass)')
  .argument('<NN>', 'the exercise number')
  .option('--json', 'print the result as JSON')
  .action((nn: string, options: { json?: boolean }) =>
    run(Boolean(options.json), () => exerciseCheck(exercises(), nn)),
  );

program
  .command('solution')
  .description("The exercise's solution, once you have passed it")
  .argument('<NN>', 'the exercise number')
  .option('--json', 'print it as JSON')
  .action((nn: string, options: { json?: boolean }) =>
    run(Boolean(options.json), () => exerciseSolution(exercises(), nn)),
  );

program
  .command('progress')
  .description('Your progress: status, starts, passes and times per exercise')
  .option('--json', 'print it as JSON')
  .action((options: { json?: boolean }) => run(Boolean(options.json), () => exerciseProgress(exercises())));

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) {
    // Help and version are not failures; anything else Commander rejects is a usage error.
    process.exitCode = ['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(err.code) ? 0 : 2;
    return;
  }
  printError(err instanceof Error ? err.message : String(err));
  process.exitCode = err instanceof UsageError ? 2 : 1;
});
