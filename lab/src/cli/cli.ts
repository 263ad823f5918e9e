/**
 * The `lab` command table. Each command returns a Report; this file only wires options to
 * commands and reports to the renderer, and turns failures into exit codes:
 * 0 ok, 1 failed, 2 usage.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { trafficAction } from '../core/actions/traffic';
import { UsageError } from '../core/errors';
import { parseMode, type Mode } from '../core/mode';
import { labPaths } from '../core/paths';
import { labRuntime } from '../exercises/runner';
import { configSet, configShow } from './commands/config';
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
import { pages } from './commands/pages';
import { status } from './commands/status';
import { traces } from './commands/traces';
import { traffic } from './commands/traffic';
import { up } from './commands/up';
import { colorWanted, print, printError, progressTo, type Report } from './output';

const paths = labPaths();
const progress = progressTo();
// Built on first use: it loads the exercise definitions from exercises/dist.
const exercises = () => labRuntime(paths, progress);

async function run(command: () => Promise<Report> | Report): Promise<void> {
  const report = await command();
  print(report, { json: Boolean(program.opts<{ json?: boolean }>().json), color: colorWanted(process.stdout) });
  if (!report.ok) process.exitCode = 1;
}

const positiveInt = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expects a positive whole number');
  return n;
};

// --json is the program's own option: Commander reads it before or after any subcommand
// (`lab --json status` and `lab status --json`), and every command's help lists it.
const program = new Command('lab')
  .description('The ShopNow observability lab: bring it up, look at it, drive traffic.')
  .option('--json', 'print the result as JSON (the same data the text shows)')
  .configureHelp({ showGlobalOptions: true })
  .showHelpAfterError()
  .exitOverride();

const asMode = (value: string): Mode => {
  try {
    return parseMode(value, '--mode');
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
};

program
  .command('up')
  .description(
    'Start the lab (the full stack on Docker, or lite mode when no Docker engine answers) and wait until it is healthy',
  )
  .option('--mode <mode>', 'full or lite (docker or native also do; default: LAB_MODE, else auto-detected)', asMode)
  .action((options: { mode?: Mode }) => run(() => up(paths, { mode: options.mode }, progress)));

program
  .command('down')
  .description('Stop every lab process (and the backends the lab itself started)')
  .action(() => run(() => down(paths, progress)));

program
  .command('status')
  .description('Which components are healthy, their URLs, what lite mode lacks, the alerts firing now')
  .action(() => run(() => status(paths)));

program
  .command('pages')
  .description('The pages Alertmanager delivered to the lab webhook')
  .action(() => run(() => pages(paths)));

program
  .command('logs')
  .description("The services' JSON log lines from .lab/logs/ (lite mode), filtered")
  .argument('[service]', 'a service (catalog: both replicas) or an instance (catalog-2); all services if left out')
  .option('--trace <trace_id>', 'only the lines of this trace')
  .option('--grep <text>', 'only the lines containing this text')
  .option('--tail <n>', 'at most the last n lines', positiveInt, 200)
  .action((service: string | undefined, options: { trace?: string; grep?: string; tail: number }) =>
    run(() => logs(paths, service, options)),
  );

program
  .command('traces')
  .description('The newest traces with their durations and span counts, or one trace as its span tree')
  .argument('[trace_id]', "one trace's span tree, with each span's start and duration")
  .option('--service <service>', 'only traces through this service (every service if left out)')
  .option('--error', 'only traces with a failed span')
  .option('--min-duration <duration>', 'only traces at least this long: 200ms, 1.5s')
  .option('--limit <n>', 'at most n traces (default 20)', positiveInt)
  .action(
    (
      traceId: string | undefined,
      options: { service?: string; error?: boolean; minDuration?: string; limit?: number },
    ) => run(() => traces(paths, traceId, options)),
  );

program
  .command('traffic')
  .description('Drive the traffic generator: start, stop, or set its rate')
  .argument('<action>', 'start | stop | rate')
  .argument('[n]', 'requests per second (for rate)')
  .action((action: string, n: string | undefined) => run(() => traffic(paths, trafficAction(action, n))));

const fault = program
  .command('fault')
  .description(
    'Inject, list and clear faults, for free exploration (the catalogue: `lab fault list`); closed while an exercise runs',
  );

fault
  .command('list')
  .description('Every fault the lab can inject: where it acts, its options and their defaults')
  .action(() => run(() => faultList()));

fault
  .command('inject')
  .description('Inject a fault, on every instance of a service or on one instance')
  .argument('<name>', 'a fault from `lab fault list`')
  .option('--service <service>', 'the service it acts on (every instance of it)')
  .option('--instance <instance>', 'one instance only (catalog-2)')
  .option('--set <key=value>', 'an option of the fault, repeatable (--set ms=800 --set share=0.5)', parseSetting, {})
  .action((name: string, options: { service?: string; instance?: string; set: Record<string, unknown> }) =>
    run(() => faultInject(paths, name, options, progress)),
  );

fault
  .command('clear')
  .description('Clear one fault, or every fault, everywhere or on one instance')
  .argument('[name]', 'the fault to clear (default: all)')
  .option('--instance <instance>', 'only on this instance')
  .action((name: string | undefined, options: { instance?: string }) => run(() => faultClear(paths, name, options)));

program
  .command('faults')
  .description('The faults active now, in every instance and on the lab side (during an exercise: how many are hidden)')
  .action(() => run(() => faultsActive(paths)));

program
  .command('reset')
  .description(
    'End the exercise under way, clear every fault and restore the lab (index, releases, config, traffic, dead-letter queues), then wait until healthy',
  )
  .argument('[exercise]', "also forget this exercise's attempt (default: the one under way)")
  .action((exercise: string | undefined) =>
    run(async () => {
      const lab = await reset(paths, progress);
      const forgot = exerciseForget(exercises(), exercise);
      return { data: { ...lab.data, ...forgot.data }, ok: lab.ok, sections: [...lab.sections, ...forgot.sections] };
    }),
  );

program
  .command('restart')
  .description('Restart one instance (its in-memory state, runtime faults included, is gone)')
  .argument('<instance>', 'an instance: catalog-2, orders ...')
  .action((instance: string) => run(() => restart(paths, instance, progress)));

program
  .command('rollback')
  .description('Redeploy one instance as its planned release (lite mode): the way back from a bad canary')
  .argument('<instance>', 'an instance: catalog-2, orders ...')
  .action((instance: string) => run(() => rollback(paths, instance, progress)));

const config = program
  .command('config')
  .description("A service's settings (12-factor: in its environment), changed by redeploying its instances");

config
  .command('show')
  .description('The settings a service documents in .env.example: their values and where each comes from')
  .argument('<service>', 'a service: catalog, gateway ...')
  .action((service: string) => run(() => configShow(paths, service)));

config
  .command('set')
  .description('Change settings of a service: every instance is redeployed with them; kept until `lab reset`')
  .argument('<service>', 'a service: catalog, gateway ...')
  .argument('<KEY=VALUE...>', 'one or more settings it documents (`lab config show <service>`)')
  .action((service: string, pairs: string[]) => run(() => configSet(paths, service, pairs, progress)));

program
  .command('sql')
  .description("Run one SQL statement as a service's own MySQL user, in its own schema")
  .argument('<service>', 'a service that owns a schema: orders, catalog ...')
  .argument('<statement>', 'the statement, quoted')
  .action((service: string, statement: string) => run(() => sql(paths, service, statement)));

program
  .command('redis')
  .description("Run one command on the lab's Redis, as redis-cli would (SCAN, TTL, DBSIZE, INFO commandstats ...)")
  .argument('<command...>', 'the command and its arguments: SCAN 0 MATCH "catalog:*" COUNT 1000')
  .action((command: string[]) => run(() => redisCommand(paths, command)));

const dlq = program
  .command('dlq')
  .description("The consumers' dead-letter queues: read what they rejected, then purge or replay it");

dlq
  .command('list', { isDefault: true })
  .description('Each dead-letter queue of the lab: its messages, with id, routing key, reason and a body preview')
  .option('--limit <n>', 'at most n messages shown per queue', positiveInt, 20)
  .action((options: { limit: number }) => run(() => dlqList(paths, options.limit)));

dlq
  .command('purge')
  .description('Drop every message of one dead-letter queue (read them first: they are gone after)')
  .argument('<queue>', 'a dead-letter queue from `lab dlq` (or the queue it serves)')
  .action((queue: string) => run(() => dlqPurge(paths, queue)));

dlq
  .command('replay')
  .description('Send every message of one dead-letter queue back to the queue it came from, to be consumed again')
  .argument('<queue>', 'a dead-letter queue from `lab dlq` (or the queue it serves)')
  .action((queue: string) => run(() => dlqReplay(paths, queue)));

const rules = program
  .command('rules')
  .description("Your own alerting rules (exercises/NN-slug/answer.rules.yml) in and out of the lab's Prometheus");

rules
  .command('load')
  .description(
    'Check every answer.rules.yml with promtool, install them and reload Prometheus (nothing changes if one is refused)',
  )
  .action(() => run(() => rulesLoad(paths)));

rules
  .command('unload')
  .description('Take your rules out of Prometheus again (your files stay); `lab reset` does it too')
  .action(() => run(() => rulesUnload(paths)));

program
  .command('exercises')
  .description('The exercises, their topics, signals, modes and your status')
  .action(() => run(() => exercisesList(exercises())));

program
  .command('start')
  .description('Start an exercise: resets the lab, then breaks it (randomised; --seed reproduces a start)')
  .argument('<NN>', 'the exercise number')
  .option('--seed <n>', 'the random seed', (value) => {
    if (!/^\d{1,9}$/.test(value)) throw new InvalidArgumentError('expects a whole number');
    return Number(value);
  })
  .action((nn: string, options: { seed?: number }) => run(() => exerciseStart(exercises(), nn, options.seed)));

program
  .command('hint')
  .description("The exercise's next hint (one section of its hints.md each time)")
  .argument('<NN>', 'the exercise number')
  .action((nn: string) => run(() => exerciseHint(exercises(), nn)));

program
  .command('answer')
  .description('Record answers: lab answer NN key=value ... (or write them in exercises/NN-slug/answers.txt)')
  .argument('<NN>', 'the exercise number')
  .argument('<key=value...>', 'one or more answers')
  .action((nn: string, pairs: string[]) => run(() => exerciseAnswer(exercises(), nn, pairs)));

program
  .command('check')
  .description('Grade the exercise: diagnosis, evidence and fix, each with what is still wrong (exit 0 on a pass)')
  .argument('<NN>', 'the exercise number')
  .action((nn: string) => run(() => exerciseCheck(exercises(), nn)));

program
  .command('solution')
  .description("The exercise's solution, once you have passed it")
  .argument('<NN>', 'the exercise number')
  .action((nn: string) => run(() => exerciseSolution(exercises(), nn)));

program
  .command('progress')
  .description('Your progress: status, starts, passes and times per exercise')
  .action(() => run(() => exerciseProgress(exercises())));

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) {
    // Help and version are not failures; anything else Commander rejects is a usage error.
    process.exitCode = ['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(err.code) ? 0 : 2;
    return;
  }
  printError(err instanceof Error ? err.message : String(err));
  process.exitCode = err instanceof UsageError ? 2 : 1;
});
