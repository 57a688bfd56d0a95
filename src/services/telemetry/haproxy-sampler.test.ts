/**
 * HaproxyStatsSampler under a temporary root (base_path and proc_dir in it), with real unix-socket
 * servers at the load balancers' stats socket paths playing haproxy's CLI (answering with a real
 * haproxy 2.6 capture, with an error line, or not at all): which load balancers are asked, and
 * that a socket that fails is logged and left out while the others are still reported. With the
 * real haproxy: test/integration/haproxy-sampler.test.ts.
 */
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.js';
import type { Uuid } from '../../model/uuid.js';
import { createPaths, type Paths } from '../../system/paths.js';
import { StateStore } from '../state.js';
import { HaproxyStatsSampler } from './haproxy-sampler.js';
import { haproxyIdentity } from '../daemon-specs.js';
import { fakeDaemonProc } from '../../../test/support/daemon-stand-in.js';

const CAPTURE = readFileSync(new URL('./__fixtures__/show-stat-haproxy-2.6.csv', import.meta.url), 'utf8');
const lb = (n: number) => `ffffffff-0000-4000-8000-00000000000${n}` as Uuid;
/** Stands for a live haproxy: addLb gives each load balancer its own pid under the test's proc_dir. */
const ALIVE = 4242;
let nextAlive = 5000;

let root: string | undefined;
const servers: Server[] = [];
const clients: Socket[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  if (root !== undefined) await rm(root, { recursive: true, force: true });
  root = undefined;
});

interface Setup {
  readonly paths: Paths;
  readonly state: StateStore;
  readonly warnings: () => Record<string, unknown>[];
  readonly sampler: (timeoutMs: number) => HaproxyStatsSampler;
}

async function setup(): Promise<Setup> {
  root = await mkdtemp(join(tmpdir(), 'hasampler-'));
  const text = `[haproxy_amphora]\nbase_path = ${root}/lib\n[amphora_agent]\nproc_dir = ${root}/proc\n`;
  const paths = createPaths(parseConfig([{ path: '/x.conf', text }]).config);
  await mkdir(join(root, 'lib'), { recursive: true });
  const state = new StateStore(paths.stateFile);
  await state.load();
  const lines: string[] = [];
  const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(chunk.toString('utf8')), done()) });
  const log = pino({ level: 'warn' }, sink);
  const warnings = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { paths, state, warnings, sampler: (timeoutMs) => new HaproxyStatsSampler({ state, paths, log, timeoutMs: () => timeoutMs }) };
}

/** Records load balancer `id` in the state, with a pid file naming `pid` (undefined: no pid file). */
async function addLb(s: Setup, id: Uuid, pid: number | undefined): Promise<void> {
  await s.state.update((d) => void (d.loadBalancers[id] = { id, wantRunning: true, listeners: [], installedHash: null, appliedHash: null, upload: null }));
  if (pid === undefined) return;
  await mkdir(s.paths.haproxyDir(id), { recursive: true });
  // a live haproxy is this load balancer's (its -f and -p): one process each
  const named = pid === ALIVE ? nextAlive++ : pid;
  if (pid === ALIVE) fakeDaemonProc(dirname(s.paths.proc(named)), named, haproxyIdentity(s.paths, id));
  await writeFile(s.paths.haproxyPidFile(id), `${named}\n`);
}

/** A CLI at `id`'s stats socket: answers each command with `answer`, or never (null). Returns the commands it got. */
async function cli(paths: Paths, id: Uuid, answer: string | null): Promise<string[]> {
  const commands: string[] = [];
  const server = createServer((socket) => {
    clients.push(socket);
    socket.on('data', (d) => {
      commands.push(d.toString('utf8'));
      if (answer !== null) socket.end(answer);
    });
    socket.on('error', () => undefined);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(paths.haproxyStatsSocket(id), resolve));
  return commands;
}

describe('HaproxyStatsSampler', () => {
  it('asks each running haproxy once for show stat -1 -1 -1 and reports its listeners and pools', async () => {
    const s = await setup();
    await addLb(s, lb(1), ALIVE);
    const commands = await cli(s.paths, lb(1), CAPTURE);
    const [sample, ...rest] = await s.sampler(30_000).sample();
    expect(rest).toEqual([]);
    expect(commands).toEqual(['show stat -1 -1 -1\n']);
    expect(sample).toMatchObject({ kind: 'haproxy', loadBalancerId: lb(1) });
    expect(sample!.listeners.map((l) => [l.id, l.status])).toEqual([['aaaaaaaa-1111-4111-8111-111111111111', 'OPEN']]);
    expect(sample!.pools.map((p) => [p.key, p.status, Object.keys(p.members).length])).toEqual([['bbbbbbbb-2222-4222-8222-222222222222:aaaaaaaa-1111-4111-8111-111111111111', 'UP', 6]]);
    expect(s.warnings()).toEqual([]);
  });

  it('does not ask a haproxy whose pid file is missing or names a gone process, and logs nothing for them', async () => {
    const s = await setup();
    await addLb(s, lb(1), undefined);
    await addLb(s, lb(2), 999_999);
    const asked = [await cli(s.paths, lb(1), CAPTURE), await cli(s.paths, lb(2), CAPTURE)];
    expect(await s.sampler(30_000).sample()).toEqual([]);
    expect(asked).toEqual([[], []]);
    expect(s.warnings()).toEqual([]);
  });

  it('leaves out, with a warning each, a socket nobody serves and one answering an error line; the others are reported', async () => {
    const s = await setup();
    for (const n of [1, 2, 3]) await addLb(s, lb(n), ALIVE);
    await cli(s.paths, lb(1), 'Permission denied\n\n');
    await cli(s.paths, lb(3), CAPTURE);
    const samples = await s.sampler(30_000).sample();
    expect(samples.map((x) => x.loadBalancerId)).toEqual([lb(3)]);
    const warned = s.warnings();
    expect(warned.map((w) => w['lbId']).sort()).toEqual([lb(1), lb(2)]);
    expect(JSON.stringify(warned.find((w) => w['lbId'] === lb(1)))).toMatch(/Permission denied/);
    expect(JSON.stringify(warned.find((w) => w['lbId'] === lb(2)))).toMatch(/ENOENT|ECONNREFUSED/);
  });

  it('gives up on a haproxy that never answers at its deadline, and the sample still resolves', async () => {
    const s = await setup();
    await addLb(s, lb(1), ALIVE);
    const commands = await cli(s.paths, lb(1), null);
    expect(await s.sampler(300).sample()).toEqual([]);
    expect(commands).toEqual(['show stat -1 -1 -1\n']);
    expect(JSON.stringify(s.warnings())).toMatch(/no complete answer within 300 ms/);
  });

  it('samples nothing when the state has no load balancer', async () => {
    const s = await setup();
    expect(await s.sampler(30_000).sample()).toEqual([]);
  });
});
