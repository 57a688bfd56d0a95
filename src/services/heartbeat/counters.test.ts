import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { captureLogger } from '../../../test/support/agent-process.js';
import { SYSTEM_PYTHON } from '../../../test/support/octavia-client.js';
import { missing } from '../../../test/support/requirements.js';
import { advanceCounters, counterDelta, HeartbeatCounters, parseCounters, serializeCounters } from './counters.js';

const A = 'aaaaaaaa-0000-0000-0000-000000000001';
const B = 'aaaaaaaa-0000-0000-0000-000000000002';
const C = 'aaaaaaaa-0000-0000-0000-000000000003';
const c = (bin: number, bout: number, stot: number, ereq: number) => ({ bin, bout, stot, ereq });

describe('counterDelta', () => {
  it('is the growth since the previous counters, and the whole value for a new listener', () => {
    expect(counterDelta(c(100, 200, 5, 1), c(150, 260, 7, 1))).toEqual(c(50, 60, 2, 0));
    expect(counterDelta(undefined, c(150, 260, 7, 1))).toEqual(c(150, 260, 7, 1));
  });

  it('counts a counter that went backwards (daemon restarted) with its current value, metric by metric', () => {
    expect(counterDelta(c(1000, 2000, 50, 3), c(10, 2500, 2, 3))).toEqual(c(10, 500, 2, 0));
  });
});

describe('advanceCounters', () => {
  it('stores the new absolute counters and gives the deltas', () => {
    const { stored, deltas } = advanceCounters(new Map([[A, c(100, 200, 5, 1)]]), [{ id: A, counters: c(130, 250, 6, 1) }], new Set([A]));
    expect(deltas.get(A)).toEqual(c(30, 50, 1, 0));
    expect(stored.get(A)).toEqual(c(130, 250, 6, 1));
  });

  it('gives zero deltas for a listener without counters and keeps what is stored, so nothing is counted twice later', () => {
    const before = new Map([[A, c(100, 200, 5, 0)]]);
    const first = advanceCounters(before, [{ id: A, counters: null }], new Set([A]));
    expect(first.deltas.get(A)).toEqual(c(0, 0, 0, 0));
    expect(first.stored.get(A)).toEqual(c(100, 200, 5, 0));
    // its virtual server is back: only what it counted since the last report is new
    const second = advanceCounters(first.stored, [{ id: A, counters: c(120, 230, 6, 0) }], new Set([A]));
    expect(second.deltas.get(A)).toEqual(c(20, 30, 1, 0));
  });

  it('drops entries of listeners that are neither sampled nor managed, and keeps managed ones that are not running now', () => {
    const stored = new Map([
      [A, c(1, 1, 1, 0)],
      [B, c(2, 2, 2, 0)],
      [C, c(3, 3, 3, 0)],
    ]);
    const next = advanceCounters(stored, [{ id: A, counters: c(1, 1, 1, 0) }], new Set([B]));
    expect([...next.stored.keys()].sort()).toEqual([A, B]);
  });
});

describe('the counters file format', () => {
  it("reads the reference's file (Python json.dumps) and writes its layout", () => {
    const reference = `{"${A}": {"bin": 100, "bout": 200, "ereq": 1, "stot": 5}, "${B}": {"bin": 0, "bout": 0, "ereq": 0, "stot": 0}}`;
    const parsed = parseCounters(reference);
    expect(parsed.problem).toBeUndefined();
    expect(parsed.stored.get(A)).toEqual(c(100, 200, 5, 1));
    expect(serializeCounters(parsed.stored)).toBe(reference.replaceAll(': ', ':').replaceAll(', ', ','));
  });

  it('counts a metric an entry lacks as 0, as the reference does', () => {
    expect(parseCounters(`{"${A}": {"bin": 7}}`).stored.get(A)).toEqual(c(7, 0, 0, 0));
  });

  it.each([
    ['torn', `{"${A}": {"bin": 100, "bo`],
    ['not an object', '[1, 2]'],
    ['an entry that is not an object', `{"${A}": 5}`],
    ['a negative counter', `{"${A}": {"bin": -1}}`],
    ['a counter that is not a number', `{"${A}": {"bin": "100"}}`],
  ])('refuses a file that is %s', (_what, text) => {
    const parsed = parseCounters(text);
    expect(parsed.problem).toEqual(expect.any(String));
    expect(parsed.stored.size).toBe(0);
  });
});

describe('HeartbeatCounters (a real file)', () => {
  let dir: string;
  beforeEach(async () => void (dir = await mkdtemp(join(tmpdir(), 'hb-counters-'))));
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('continues from the file a previous run (or the reference) left', async () => {
    const file = join(dir, 'stats_counters.json');
    await writeFile(file, `{"${A}": {"bin": 100, "bout": 200, "ereq": 0, "stot": 5}}`);
    const counters = new HeartbeatCounters(file, captureLogger().log);
    await counters.load();
    expect(counters.advance([{ id: A, counters: c(110, 230, 6, 0) }], new Set()).get(A)).toEqual(c(10, 30, 1, 0));
    await counters.persist();
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ [A]: { bin: 110, bout: 230, ereq: 0, stot: 6 } });
    expect((await stat(file)).mode & 0o777).toBe(0o640);
  });

  it('starts from empty after a torn file, and says so', async () => {
    const file = join(dir, 'stats_counters.json');
    await writeFile(file, `{"${A}": {"bin": 1`);
    const { log, lines } = captureLogger();
    const counters = new HeartbeatCounters(file, log);
    await counters.load();
    expect(counters.current.size).toBe(0);
    expect(lines.some((l) => l['level'] === 40 && /counting starts afresh/.test(String(l['msg'])))).toBe(true);
    expect(counters.advance([{ id: A, counters: c(5, 6, 1, 0) }], new Set()).get(A)).toEqual(c(5, 6, 1, 0));
  });

  it('writes only when the counters changed', async () => {
    const file = join(dir, 'stats_counters.json');
    const counters = new HeartbeatCounters(file, captureLogger().log);
    await counters.load();
    counters.advance([{ id: A, counters: c(5, 6, 1, 0) }], new Set());
    await counters.persist();
    await rm(file);
    counters.advance([{ id: A, counters: c(5, 6, 1, 0) }], new Set());
    await counters.persist();
    await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  // The reference's own health_daemon counts one heartbeat for listener A with a base_path of this
  // test: the file it persists is what this agent continues from, and the other way round.
  it.skipIf(!referenceDaemon)("continues the reference's file, and the reference continues ours", { timeout: 120_000 }, async () => {
    const file = join(dir, 'stats_counters.json');
    const reference = (row: Record<string, string>) =>
      JSON.parse(execFileSync(SYSTEM_PYTHON, ['-c', REFERENCE_STEP, dir, A, JSON.stringify(row)], { encoding: 'utf8', timeout: 120_000 })) as Record<string, number>;
    expect(reference({ bin: '100', bout: '200', stot: '5', ereq: '1' })).toEqual({ bin: 100, bout: 200, ereq: 1, stot: 5 });

    const counters = new HeartbeatCounters(file, captureLogger().log);
    await counters.load();
    expect(counters.advance([{ id: A, counters: c(150, 260, 7, 1) }], new Set()).get(A)).toEqual(c(50, 60, 2, 0));
    await counters.persist();

    expect(reference({ bin: '170', bout: '300', stot: '9', ereq: '2' })).toEqual({ bin: 20, bout: 40, ereq: 1, stot: 2 });
  });
});

const referenceDaemon = missing({ python: 'octavia.amphorae.backends.health_daemon.health_daemon' }).length === 0;

/** One calculate_stats_deltas + persist_counters of the reference, under base_path argv[1]. */
const REFERENCE_STEP = `
import json, sys
from octavia.common import config
from oslo_config import cfg
from octavia.amphorae.backends.health_daemon import health_daemon
cfg.CONF.set_override('base_path', sys.argv[1], group='haproxy_amphora')
deltas = health_daemon.calculate_stats_deltas(sys.argv[2], json.loads(sys.argv[3]))
health_daemon.persist_counters()
print(json.dumps(deltas))
`;
