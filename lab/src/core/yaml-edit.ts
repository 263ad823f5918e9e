/**
 * Edits a hand-written YAML file in place: only the values it is asked to set change, so its
 * comments, quotes, anchors and layout stay exactly as written (a YAML library's own output would
 * reformat the whole file). Used by `make generate` on docker-compose.yml.
 */
import { isMap, isScalar, stringify, type Document, type Node } from 'yaml';

export interface Edit {
  start: number;
  end: number;
  text: string;
}

/** A value as the file writes it: flow sequences on one line, strings quoted only where YAML needs it. */
const render = (value: unknown): string =>
  Array.isArray(value)
    ? `[${value.map(render).join(', ')}]`
    : stringify(value, { singleQuote: true, lineWidth: 0 }).trimEnd();

/**
 * The edits that make `keys` (a map's path) hold `entries`: a value that differs is rewritten in
 * place, a missing key is added after the map's last line, and with `owned` the keys it matches
 * that `entries` lacks are removed. Everything else in the file, comments included, stays as written.
 */
export function mapEdits(
  doc: Document,
  text: string,
  keys: string[],
  entries: Record<string, unknown>,
  owned?: RegExp,
): Edit[] {
  const map = doc.getIn(keys, true);
  if (!isMap(map)) throw new Error(`${keys.join('.')} is not a map`);
  // Every key with its value's place in the text (a key written without a value has none).
  const pairs = map.items.flatMap(({ key, value }) => {
    const node = value as Node | null;
    return isScalar(key) && key.range && node?.range
      ? [{ key: String(key.value), keyStart: key.range[0], node, start: node.range[0], end: node.range[1] }]
      : [];
  });
  const lineStart = (offset: number) => text.lastIndexOf('\n', offset) + 1;
  const lineEnd = (offset: number) => text.indexOf('\n', offset);
  const edits: Edit[] = [];
  for (const { key, keyStart, node, start, end } of pairs) {
    if (owned?.test(key) && !(key in entries))
      edits.push({ start: lineStart(keyStart) - 1, end: lineEnd(end), text: '' });
    else if (key in entries && JSON.stringify(node.toJSON()) !== JSON.stringify(entries[key]))
      edits.push({ start, end, text: render(entries[key]) });
  }
  const indent = ' '.repeat(pairs[0].keyStart - lineStart(pairs[0].keyStart));
  const last = lineEnd(pairs[pairs.length - 1].end);
  const present = new Set(pairs.map(({ key }) => key));
  const added = Object.entries(entries).filter(([key]) => !present.has(key));
  if (added.length > 0)
    edits.push({
      start: last,
      end: last,
      text: added.map(([key, value]) => `\n${indent}${key}: ${render(value)}`).join(''),
    });
  return edits;
}

/** The text with the edits made (they do not overlap). */
export function applyEdits(text: string, edits: Edit[]): string {
  let out = text;
  for (const edit of [...edits].sort((a, b) => b.start - a.start))
    out = out.slice(0, edit.start) + edit.text + out.slice(edit.end);
  return out;
}
