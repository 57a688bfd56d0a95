import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../config/load.js';
import { silentLogger } from '../log.js';
import type { Uuid } from '../model/uuid.js';
import { DaemonLogs } from '../services/daemon-logs.js';
import { DaemonSpecs } from '../services/daemon-specs.js';
import { StateStore } from '../services/state.js';
import { createPaths } from '../system/paths.js';
import { rotateDaemonLogs } from './rotate-daemon-logs.js';

const LISTENER = 'bbbbbbbb-0000-0000-0000-000000000001' as Uuid;
const QUIET_LISTENER = 'bbbbbbbb-0000-0000-0000-000000000002' as Uuid;
const LB = 'cccccccc-0000-0000-0000-000000000001' as Uuid;
const UNKNOWN_LB = 'cccccccc-0000-0000-0000-000000000009' as Uuid;

const roots: string[] = [];
const writers: ChildProcess[] = [];
afterEach(() => {
  for (const w of writers.splice(0)) w.kill('SIGKILL');
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

async function setup(options = 'daemon_log_max_bytes = 4096\ndaemon_log_keep = 2\n') {
  const root = mkdtempSync(join(tmpdir(), 'rotate-job-'));
  roots.push(root);
  const config = parseConfig([{ path: '/x.conf', text: `[haproxy_amphora]\nbase_path = ${root}/lib\n[amphora_agent]\n${options}` }]).config;
  const paths = createPaths(config);
  const state = new StateStore(paths.stateFile);
  await state.load();
  const specs = new DaemonSpecs(() => config, paths);
  const logs = new DaemonLogs(paths);
  await state.update((s) => {
    for (const id of [LISTENER, QUIET_LISTENER]) s.lvsListeners[id] = { id, wantRunning: true, protocol: 'UDP', installed: null, applied: null };
    s.loadBalancers[LB] = { id: LB, wantRunning: false, listeners: [], installedHash: null, appliedHash: null, upload: null };
    s.vrrp = { wantRunning: true, installedHash: 'h', appliedHash: 'h' };
  });
  const write = (file: string, bytes: number) => {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, 'keepalived says something\n'.repeat(Math.ceil(bytes / 26)).slice(0, bytes));
  };
  const run = () => rotateDaemonLogs({ state, specs, logs, config: () => config, log: silentLogger() });
  return { paths, specs, logs, write, run };
}

describe('rotateDaemonLogs (the job, without cron, on real files)', () => {
  it('rotates every managed daemon log over the size (LVS, haproxy, VRRP) and leaves the others alone', async () => {
    const t = await setup();
    const big = [t.paths.lvsLogFile(LISTENER), t.paths.haproxyLogFile(LB), t.paths.vrrpLogFile];
    for (const f of big) t.write(f, 5000);
    t.write(t.paths.lvsLogFile(QUIET_LISTENER), 4096);
    // a log the state does not name is not the job's
    t.write(t.paths.haproxyLogFile(UNKNOWN_LB), 9000);

    expect((await t.run()).sort()).toEqual([...big].sort());
    for (const f of big) {
      expect(statSync(f).size).toBe(0);
      expect(statSync(`${f}.1`).size).toBe(5000);
    }
    expect(statSync(t.paths.lvsLogFile(QUIET_LISTENER)).size).toBe(4096);
    expect(existsSync(`${t.paths.lvsLogFile(QUIET_LISTENER)}.1`)).toBe(false);
    expect(statSync(t.paths.haproxyLogFile(UNKNOWN_LB)).size).toBe(9000);
  });

  it('keeps daemon_log_keep copies across runs, the newest in .1', async () => {
    const t = await setup();
    const f = t.paths.lvsLogFile(LISTENER);
    for (const round of [1, 2, 3]) {
      t.write(f, 4097 + round);
      await t.run();
    }
    expect([statSync(`${f}.1`).size, statSync(`${f}.2`).size, existsSync(`${f}.3`)]).toEqual([4100, 4099, false]);
  });

  it('with a real writer appending to the LVS log: once over the size, .1 has the old lines and the new ones land in the live file', async () => {
    const t = await setup();
    const f = t.paths.lvsLogFile(LISTENER);
    t.write(f, 100);
    const writer = spawn('/bin/sh', ['-c', 'exec >>"$0" 2>&1; i=0; while :; do i=$((i+1)); echo "vrrp line $i: Netlink reflector reports IP 203.0.113.10 added, VRRP_Instance(VI_1) Entering MASTER STATE"; sleep 0.005; done', f], { stdio: 'ignore' });
    writers.push(writer);
    // under the size nothing happens; the writer's lines push it over, and a run rotates it
    await vi.waitFor(async () => expect(await t.run()).toEqual([f]), { timeout: 30_000, interval: 100 });
    const old = readFileSync(`${f}.1`, 'utf8');
    expect(old.length).toBeGreaterThan(4096);
    const last = Math.max(...[...old.matchAll(/^vrrp line (\d+):/gm)].map((m) => Number(m[1])));
    await vi.waitFor(() => expect(readFileSync(f, 'utf8')).toMatch(/^vrrp line \d+: .*\n.*vrrp line/s), { timeout: 20_000, interval: 20 });
    const live = readFileSync(f);
    expect(live.includes(0)).toBe(false);
    expect(Number(/^vrrp line (\d+)/.exec(live.toString('utf8'))?.[1])).toBeGreaterThan(last);
  });

  it('a daemon without a log yet is skipped', async () => {
    const t = await setup();
    expect(await t.run()).toEqual([]);
  });

  it('waits while a start or reload wait holds the log (DaemonLogs.exclusive), then rotates', async () => {
    const t = await setup();
    const f = t.paths.lvsLogFile(LISTENER);
    t.write(f, 6000);
    let release!: () => void;
    const held = t.logs.exclusive(f, () => new Promise<void>((r) => (release = r)));
    const job = t.run();
    // give the job every chance to run ahead
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 50));
    expect(statSync(f).size).toBe(6000);
    release();
    await held;
    expect(await job).toEqual([f]);
    expect(readFileSync(`${f}.1`, 'utf8').length).toBe(6000);
  });
});
