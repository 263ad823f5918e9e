/**
 * The only place the CLI writes to the terminal. A command returns a Report: its data (what
 * `--json` prints, unchanged) and the sections a person reads, built from that same data.
 */
export type Tone = 'ok' | 'bad' | 'warn' | 'dim';
export type Cell = string | { text: string; tone: Tone };

export interface Section {
  title?: string;
  table?: { head: string[]; rows: Cell[][] };
  lines?: string[];
}

export interface Report<T = unknown> {
  data: T;
  sections: Section[];
  ok: boolean; // false: the command failed (exit code 1), though it has something to show
}

export interface OutputOptions {
  json: boolean;
  color: boolean;
}

const CODES: Record<Tone, string> = { ok: '32', bad: '31', warn: '33', dim: '2' };

/** Colour only for a person at a terminal, and never when NO_COLOR is set (no-color.org). */
export function colorWanted(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(stream.isTTY) && !('NO_COLOR' in env && env.NO_COLOR !== '');
}

const textOf = (cell: Cell) => (typeof cell === 'string' ? cell : cell.text);

function paint(cell: Cell, width: number, color: boolean): string {
  const padded = textOf(cell).padEnd(width);
  if (typeof cell === 'string' || !color) return padded;
  return `\u001b[${CODES[cell.tone]}m${padded}\u001b[0m`;
}

export function formatTable(head: string[], rows: Cell[][], color: boolean): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => textOf(row[i] ?? '').length)));
  const line = (cells: Cell[]) =>
    cells
      .map((cell, i) => paint(cell, i === cells.length - 1 ? 0 : widths[i], color))
      .join('  ')
      .trimEnd();
  const heading = color ? `\u001b[1m${line(head)}\u001b[0m` : line(head);
  return [heading, ...rows.map(line)].join('\n');
}

/** The text a report prints: JSON of its data, or its sections for a person. */
export function format(report: Report, options: OutputOptions): string {
  if (options.json) return JSON.stringify(report.data, null, 2);
  return report.sections
    .map((section) => {
      const parts: string[] = [];
      if (section.title) parts.push(options.color ? `\u001b[1m${section.title}\u001b[0m` : section.title);
      if (section.table) parts.push(formatTable(section.table.head, section.table.rows, options.color));
      if (section.lines) parts.push(...section.lines);
      return parts.join('\n');
    })
    .join('\n\n');
}

export function print(report: Report, options: OutputOptions): void {
  process.stdout.write(`${format(report, options)}\n`);
}

/** Progress of a long step, on stderr so that stdout stays the result (and valid JSON). */
export type Progress = (message: string) => void;

export function progressTo(stream: NodeJS.WriteStream = process.stderr): Progress {
  return (message) => stream.write(`${message}\n`);
}

export function printError(message: string): void {
  process.stderr.write(`lab: ${message}\n`);
}
