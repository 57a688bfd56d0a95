/**
 * @module test/support/prom-text
 * A reader of Prometheus's text exposition format (0.0.4), for tests that assert on what a scrape
 * gave: each sample's name, labels and value, and each family's TYPE. Strict where a test should
 * notice a mistake: a line it cannot read, or a sample without a TYPE, throws.
 */

export interface PromSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface PromText {
  readonly samples: readonly PromSample[];
  /** family name → counter, gauge, histogram, summary or untyped */
  readonly types: ReadonlyMap<string, string>;
  /** The samples of `name` whose labels include every one of `labels`. */
  find(name: string, labels?: Readonly<Record<string, string>>): PromSample[];
  /** The value of the one sample of `name` with these labels (throws when there is not exactly one). */
  value(name: string, labels?: Readonly<Record<string, string>>): number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+-?\d+)?$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)/y;

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < text.length) {
    const m = LABEL.exec(text);
    if (m === null) throw new Error(`cannot read the labels of ${JSON.stringify(line)}`);
    labels[m[1] as string] = (m[2] as string).replace(/\\(.)/g, (_all, c: string) => (c === 'n' ? '\n' : c));
  }
  return labels;
}

/** Go's ParseFloat, which Prometheus reads values with, takes NaN and Inf in any case (prom-client writes `Nan`). */
function parseValue(text: string): number {
  const lower = text.toLowerCase();
  if (lower === 'nan') return NaN;
  if (lower === '+inf' || lower === 'inf') return Infinity;
  if (lower === '-inf') return -Infinity;
  const v = Number(text);
  if (Number.isNaN(v)) throw new Error(`not a sample value: ${text}`);
  return v;
}

/** The family a sample belongs to (histograms and summaries add suffixes to theirs). */
function familyOf(name: string, types: ReadonlyMap<string, string>): string | undefined {
  if (types.has(name)) return name;
  const base = name.replace(/_(bucket|sum|count|created)$/, '');
  return types.has(base) ? base : undefined;
}

export function parsePromText(text: string): PromText {
  const samples: PromSample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1] as string, type[2] as string);
    if (line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (m === null) throw new Error(`not a sample line: ${JSON.stringify(line)}`);
    const name = m[1] as string;
    if (familyOf(name, types) === undefined) throw new Error(`sample ${name} has no TYPE line before it`);
    samples.push({ name, labels: parseLabels(m[3] ?? '', line), value: parseValue(m[4] as string) });
  }
  const find = (name: string, labels: Readonly<Record<string, string>> = {}) =>
    samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return {
    samples,
    types,
    find,
    value(name, labels = {}) {
      const found = find(name, labels);
      if (found.length !== 1) throw new Error(`${found.length} samples of ${name} with ${JSON.stringify(labels)}`);
      return (found[0] as PromSample).value;
    },
  };
}
