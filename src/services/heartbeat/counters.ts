/**
 * @module services/heartbeat/counters
 * The absolute traffic counters each listener had at the previous heartbeat, which turn the
 * daemons' cumulative counters into the deltas a v3 heartbeat reports, kept in
 * `<base_path>/stats_counters.json` in the reference's format (`{listener id: {"bin", "bout",
 * "ereq", "stot"}}`), so that an agent replacing the reference continues its counts and the other
 * way round.
 *
 * The file is written before the message that carries the deltas is sent (write-ahead): a
 * restart never sends a delta twice; a crash between the write and the send loses at most one
 * delta. It is replaced atomically (system/files.ts), where the reference truncates and rewrites
 * it in place and can leave it torn. A torn or foreign file is logged and counting starts afresh.
 */
import type { Logger } from '../../log.js';
import { readIfExists, writeFileAtomic } from '../../system/files.js';
import type { TrafficCounters } from '../telemetry/samples.js';
import { ZERO_COUNTERS } from './message.js';

/** The metrics the file keeps, in the reference's order. */
const METRICS = ['bin', 'bout', 'ereq', 'stot'] as const;

/** The reference opens the file with mode 0640. */
const FILE_MODE = 0o640;

export interface CounterSample {
  readonly id: string;
  /** null: the daemon runs but gave no counters this time */
  readonly counters: TrafficCounters | null;
}

/**
 * What `current` grew by since `previous`. A counter that went backwards was reset (its daemon
 * restarted or reloaded): its whole current value is new, as the reference counts it.
 */
export function counterDelta(previous: TrafficCounters | undefined, current: TrafficCounters): TrafficCounters {
  const delta = (m: (typeof METRICS)[number]): number => {
    const d = current[m] - (previous?.[m] ?? 0);
    return d < 0 ? current[m] : d;
  };
  return { bin: delta('bin'), bout: delta('bout'), ereq: delta('ereq'), stot: delta('stot') };
}

export interface Advanced {
  readonly stored: Map<string, TrafficCounters>;
  readonly deltas: Map<string, TrafficCounters>;
}

/**
 * The deltas of `samples` against `stored`, and what to store next. A listener whose counters are
 * null this time (an LVS listener whose virtual server is not in IPVS yet) reports zeros and keeps
 * what is stored. The reference stores zeros for it instead, so that when the virtual server
 * appears, everything it counted since the daemon started is sent again as one delta (double
 * counting). Entries of listeners that are neither sampled nor in `known` (the listeners the agent
 * manages) are dropped; a known listener whose daemon is down for a moment keeps its entry.
 */
export function advanceCounters(stored: ReadonlyMap<string, TrafficCounters>, samples: readonly CounterSample[], known: ReadonlySet<string>): Advanced {
  const next = new Map<string, TrafficCounters>();
  for (const [id, counters] of stored) if (known.has(id)) next.set(id, counters);
  const deltas = new Map<string, TrafficCounters>();
  for (const sample of samples) {
    const previous = stored.get(sample.id);
    if (sample.counters === null) {
      deltas.set(sample.id, ZERO_COUNTERS);
      if (previous !== undefined) next.set(sample.id, previous);
      continue;
    }
    deltas.set(sample.id, counterDelta(previous, sample.counters));
    next.set(sample.id, { bin: sample.counters.bin, bout: sample.counters.bout, ereq: sample.counters.ereq, stot: sample.counters.stot });
  }
  return { stored: next, deltas };
}

/** The file's text for `stored`: the reference's layout, metrics in its order. */
export function serializeCounters(stored: ReadonlyMap<string, TrafficCounters>): string {
  const out: Record<string, Record<string, number>> = {};
  for (const [id, c] of stored) out[id] = { bin: c.bin, bout: c.bout, ereq: c.ereq, stot: c.stot };
  return JSON.stringify(out);
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * The counters a file holds. A metric the entry lacks counts as 0 (the reference's default);
 * anything else that is not a non-negative integer makes the file unusable: `problem` says why.
 */
export function parseCounters(text: string): { readonly stored: Map<string, TrafficCounters>; readonly problem?: string } {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return { stored: new Map(), problem: `not JSON (${(err as Error).message})` };
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return { stored: new Map(), problem: 'not a JSON object' };
  const stored = new Map<string, TrafficCounters>();
  for (const [id, entry] of Object.entries(data as Record<string, unknown>)) {
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return { stored: new Map(), problem: `the entry of ${id} is not an object` };
    const e = entry as Record<string, unknown>;
    const value = (m: (typeof METRICS)[number]) => e[m] ?? 0;
    const bad = METRICS.find((m) => !isCount(value(m)));
    if (bad !== undefined) return { stored: new Map(), problem: `${id}.${bad} is not a non-negative integer` };
    stored.set(id, { bin: value('bin') as number, bout: value('bout') as number, ereq: value('ereq') as number, stot: value('stot') as number });
  }
  return { stored };
}

/** The stored counters and their file. */
export class HeartbeatCounters {
  private stored = new Map<string, TrafficCounters>();
  /** The text the file holds (as read or last written), to skip writes that change nothing. */
  private onDisk: string | undefined;

  constructor(
    private readonly file: string,
    private readonly log: Logger,
  ) {}

  /** Reads the file; a missing one is empty, a torn or foreign one is logged and counted afresh. */
  async load(): Promise<void> {
    const text = await readIfExists(this.file);
    if (text === undefined) return;
    const parsed = parseCounters(text);
    if (parsed.problem !== undefined) this.log.warn({ file: this.file, problem: parsed.problem }, 'ignoring the stats counters file: counting starts afresh');
    this.stored = parsed.stored;
    this.onDisk = text;
  }

  /** The deltas of `samples`; they become the stored counters (see advanceCounters). */
  advance(samples: readonly CounterSample[], known: ReadonlySet<string>): Map<string, TrafficCounters> {
    const { stored, deltas } = advanceCounters(this.stored, samples, known);
    this.stored = stored;
    return deltas;
  }

  /** Writes the stored counters when they differ from the file. */
  async persist(): Promise<void> {
    const text = serializeCounters(this.stored);
    if (text === this.onDisk) return;
    await writeFileAtomic(this.file, text, FILE_MODE);
    this.onDisk = text;
  }

  /** The stored absolute counters, for inspection. */
  get current(): ReadonlyMap<string, TrafficCounters> {
    return this.stored;
  }
}
