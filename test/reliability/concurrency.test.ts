/**
 * Concurrent requests across and within listeners, API 1.0 and 2.0 mixed, against the real agent
 * process (`direct` init, real keepalived in the test's namespace): uploads, starts, reloads,
 * stops and deletes of the same listeners at once, in rounds. After each round, once every
 * answer is in, the agent's word, the disk and the processes must agree:
 *   - a listener is listed by GET /1.0/listeners exactly when its config file is on disk;
 *   - an API 2.0 model answers GET 200 only when its listener is listed (no ghost: item 8);
 *   - every keepalived in the namespace runs a listed listener's config, one per listener
 *     (no orphaned or doubled daemon); a listener listed ACTIVE or OFFLINE has its keepalived;
 *   - the state file is whole JSON;
 * and at the end, after every listener is deleted, no keepalived is left and no config remains.
 * Only disabled listeners run (no IPVS on this host: a virtual_server would make every start 500).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GEN_CERTS } from '../support/agent-paths.js';
import { merge, udpListener } from '../support/listener-fixtures.js';
import { netnsPids } from '../support/netns.js';
import { RENDER_SCRIPT, renderLvs } from '../support/octavia-templaters.js';
import { procCmdline, procComm } from '../support/processes.js';
import { tierCanRun } from '../support/requirements.js';
import { recordFigures } from './support/figures.js';
import { isHonestDaemonExit } from './support/fuzz-checks.js';
import { startSuiteAgent, type SuiteAgent } from './support/suite-agent.js';

const canRun = tierCanRun('reliability: concurrent requests', {
  root: true,
  binaries: ['keepalived', 'ip', 'openssl'],
  python: 'octavia',
  files: [GEN_CERTS, RENDER_SCRIPT],
});

const ROUNDS = Number(process.env['RELIABILITY_CONCURRENCY_ROUNDS'] ?? 12);
const PER_ROUND = 10;
const IDS = ['eeeeeeee-0000-4000-8000-0000000000d1', 'eeeeeeee-0000-4000-8000-0000000000d2', 'eeeeeeee-0000-4000-8000-0000000000d3'];
const SEED = Number(process.env['RELIABILITY_CONCURRENCY_SEED'] ?? Date.now() % 2 ** 31);

type Op = { method: string; path: string; body?: string };

describe.skipIf(!canRun)('concurrent requests across and within listeners, v1 and v2 mixed', () => {
  let agent: SuiteAgent;
  let configs: Map<string, string>;
  const figures = { rounds: 0, requests: 0, seed: SEED, inconsistencies: 0, unexpected_5xx: 0, honest_daemon_exit_5xx: 0, keepalived_at_end: 0 };
  const lvsConfig = (id: string) => agent.root.at(`var/lib/octavia/lvs/octavia-keepalivedlvs-${id}.conf`);

  beforeAll(async () => {
    agent = await startSuiteAgent({ tag: 'conc' });
    configs = new Map();
    for (const id of IDS) configs.set(id, await renderLvs({ listener_id: id, listener_enabled: false }, agent.ns));
  });

  afterAll(async () => {
    recordFigures('concurrency', import.meta.url, figures);
    await agent?.dispose();
  });

  const op = (amp: string): fc.Arbitrary<Op> =>
    fc.tuple(fc.constantFrom(...IDS), fc.nat({ max: 7 })).map(([id, k]): Op => {
      switch (k) {
        case 0: return { method: 'PUT', path: `/1.0/listeners/${amp}/${id}/udp_listener`, body: configs.get(id) as string };
        case 1: return { method: 'PUT', path: `/1.0/loadbalancer/${id}/start` };
        case 2: return { method: 'PUT', path: `/1.0/loadbalancer/${id}/reload` };
        case 3: return { method: 'PUT', path: `/1.0/loadbalancer/${id}/stop` };
        case 4: return { method: 'DELETE', path: `/1.0/listeners/${id}` };
        case 5: return { method: 'PUT', path: `/2.0/listeners/${id}`, body: JSON.stringify(merge(udpListener(), { admin_state_up: false })) };
        case 6: return { method: 'DELETE', path: `/2.0/listeners/${id}` };
        default: return { method: 'GET', path: `/2.0/listeners/${id}` };
      }
    });

  /** keepalived processes in the namespace, by the config file each runs. */
  async function keepaliveds(): Promise<Map<string, number[]>> {
    const out = new Map<string, number[]>();
    for (const pid of await netnsPids(agent.ns)) {
      if ((await procComm(pid)) !== 'keepalived') continue;
      const argv = await procCmdline(pid);
      const f = argv[argv.indexOf('-f') + 1] ?? argv.find((a) => a.endsWith('.conf')) ?? '?';
      // keepalived forks a child per subsystem: count the parent (whose parent is not a keepalived)
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if ((await procComm(ppid)) === 'keepalived') continue;
      out.set(f, [...(out.get(f) ?? []), pid]);
    }
    return out;
  }

  async function inconsistencies(): Promise<string[]> {
    const problems: string[] = [];
    const listed = JSON.parse((await agent.request('GET', '/1.0/listeners')).body) as { uuid: string; status: string }[];
    const running = await keepaliveds();
    for (const id of IDS) {
      const entry = listed.find((l) => l.uuid === id);
      const onDisk = existsSync(lvsConfig(id));
      if (Boolean(entry) !== onDisk) problems.push(`${id}: listed ${JSON.stringify(entry)} but config on disk: ${onDisk}`);
      const model = await agent.request('GET', `/2.0/listeners/${id}`);
      if (model.status === 200 && !entry) problems.push(`${id}: a ghost model (GET /2.0 200, not listed, config on disk: ${onDisk})`);
      const pids = running.get(lvsConfig(id)) ?? [];
      if (pids.length > 1) problems.push(`${id}: ${pids.length} keepalived for one listener: ${pids.join(', ')}`);
      if (entry && entry.status !== 'ERROR' && entry.status !== 'OFFLINE' && pids.length === 0) problems.push(`${id}: listed ${entry.status} but no keepalived runs it`);
      if (!entry && pids.length > 0) problems.push(`${id}: keepalived ${pids.join(', ')} runs a listener the agent does not list (orphan)`);
    }
    for (const f of running.keys()) if (!IDS.some((id) => lvsConfig(id) === f) && !f.includes('/vrrp/')) problems.push(`keepalived runs ${f}, no listener of this test`);
    const state = join(agent.root.at('var/lib/octavia'), 'amphora-agent-state.json');
    if (existsSync(state)) {
      try {
        JSON.parse(await readFile(state, 'utf8'));
      } catch {
        problems.push('the state file is not whole JSON');
      }
    }
    return problems;
  }

  it(`keeps disk, processes and answers consistent through ${ROUNDS} rounds of ${PER_ROUND} concurrent requests (seed ${SEED})`, async () => {
    const rounds = fc.sample(fc.array(op(agent.root.pki.amphoraId), { minLength: PER_ROUND, maxLength: PER_ROUND }), { numRuns: ROUNDS, seed: SEED });
    const problems: string[] = [];
    for (const [n, ops] of rounds.entries()) {
      const answers = await Promise.all(ops.map((o) => agent.request(o.method, o.path, o.body).then((r) => ({ o, r }))));
      figures.requests += ops.length;
      figures.rounds++;
      for (const { o, r } of answers) {
        if (r.status < 500) continue;
        if (isHonestDaemonExit(r.status, r.body)) figures.honest_daemon_exit_5xx++;
        else (figures.unexpected_5xx++, problems.push(`round ${n}: ${o.method} ${o.path}: HTTP ${r.status}: ${r.body.slice(0, 300)}`));
      }
      const found = await inconsistencies();
      figures.inconsistencies += found.length;
      problems.push(...found.map((p) => `round ${n} (${ops.map((o) => `${o.method} ${o.path.replace(/^.*\/(eeeeeeee\S+?)(\/|$)/, '…$1$2')}`).join('; ')}): ${p}`));
    }
    expect(problems).toEqual([]);
  });

  it('leaves no keepalived and no config once every listener is deleted', async () => {
    for (const id of IDS) {
      await agent.request('DELETE', `/2.0/listeners/${id}`);
      await agent.request('DELETE', `/1.0/listeners/${id}`);
    }
    const left = [...(await keepaliveds()).entries()].filter(([f]) => !f.includes('/vrrp/'));
    figures.keepalived_at_end = left.length;
    expect(left).toEqual([]);
    expect(IDS.filter((id) => existsSync(lvsConfig(id)))).toEqual([]);
  });
});
