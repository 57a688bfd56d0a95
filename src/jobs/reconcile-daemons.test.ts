import type { ChildProcess } from 'node:child_process';
import { spawnStandIn } from '../../test/support/daemon-stand-in.js';
import type { DaemonUnitSpec } from '../system/init/types.js';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import type { Uuid } from '../model/uuid.js';
import { DaemonRestartCounts, type DaemonReviver, type RestartableKind, type ReviveOutcome } from '../services/daemon-revival.js';
import { DaemonSpecs } from '../services/daemon-specs.js';
import { StateStore } from '../services/state.js';
import { removeFile } from '../system/files.js';
import { createPaths } from '../system/paths.js';
import { DaemonReconciler } from './reconcile-daemons.js';

const L1 = 'dddddddd-0000-0000-0000-000000000001' as Uuid;
const L2 = 'dddddddd-0000-0000-0000-000000000002' as Uuid;
const LB = 'eeeeeeee-0000-0000-0000-000000000001' as Uuid;

const roots: string[] = [];
const processes: ChildProcess[] = [];
afterEach(() => {
  for (const p of processes.splice(0)) p.kill('SIGKILL');
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

/** A real process standing in for the daemon `spec` (its identity); its pid goes into the spec's pid file. */
function daemonProcess(spec: DaemonUnitSpec): ChildProcess {
  const child = spawnStandIn(join(dirname(spec.pidFile), '..', 'bin'), spec.identity);
  processes.push(child);
  mkdirSync(dirname(spec.pidFile), { recursive: true });
  writeFileSync(spec.pidFile, `${child.pid}\n`);
  return child;
}

async function kill(child: ChildProcess): Promise<void> {
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await gone;
}

/**
 * A DaemonReviver for the job alone (the services' own revive is tested with them): records each
 * call and answers what the test scripts; 'started' by default, after `onStart` (which may start
 * a real process standing in for the daemon, or not: a daemon that dies again at once).
 */
class ScriptedReviver implements DaemonReviver {
  readonly calls: string[] = [];
  answer: ReviveOutcome | Error = 'started';
  onStart: (kind: RestartableKind, id: Uuid) => void = () => undefined;
  async revive(kind: RestartableKind, id: Uuid): Promise<ReviveOutcome> {
    this.calls.push(`${kind} ${id}`);
    if (this.answer instanceof Error) throw this.answer;
    if (this.answer === 'started') this.onStart(kind, id);
    return this.answer;
  }
}

async function setup() {
  const root = mkdtempSync(join(tmpdir(), 'reconcile-'));
  roots.push(root);
  // proc_dir stays /proc: liveness is the real kernel's answer
  const config = parseConfig([{ path: '/x.conf', text: `[haproxy_amphora]\nbase_path = ${root}/lib\n` }]).config;
  const paths = createPaths(config);
  const state = new StateStore(paths.stateFile);
  await state.load();
  const specs = new DaemonSpecs(() => config, paths);
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  const revival = new ScriptedReviver();
  const restarts = new DaemonRestartCounts();
  // the job's clock: each run is "10 s later" (its schedule), whatever the machine's speed
  let t = Date.parse('2026-12-06T00:00:00Z');
  const clock = { now: () => new Date(t), advance: (s: number) => void (t += s * 1000) };
  const reconciler = new DaemonReconciler({ state, specs, paths, revival, restarts, log, now: clock.now });
  const tick = async () => {
    await reconciler.run();
    clock.advance(10);
  };
  const warnings = () => lines.filter((l) => (l['level'] as number) >= 40).map((l) => [l['msg'], l['unit']]);
  const dead = () => reconciler.deadDaemons().map((d) => [d.kind, d.id, d.pidFile]);
  const counts = () => restarts.snapshot().map((r) => [r.kind, r.outcome, r.count]);
  return { paths, state, specs, reconciler, revival, tick, clock, warnings, dead, counts };
}

const lvsEntry = (id: Uuid, wantRunning = true) => ({ id, wantRunning, protocol: 'UDP' as const, installed: null, applied: null });
const lbEntry = (id: Uuid) => ({ id, wantRunning: true, listeners: [], installedHash: null, appliedHash: null, upload: null });
const DIED = 'daemon should be running and is not';
const RESTARTED = 'daemon restarted by the agent';

/** A controller-shaped VRRP config: check interval 2, fall 2, advert 1 (failover within 2*2+2+4 = 10 s). */
const VRRP_CONFIG = 'vrrp_script check_script {\n  script /x/check_script.sh\n  interval 2\n  fall 2\n}\nvrrp_instance v {\n  advert_int 1\n}\n';

describe('DaemonReconciler (the reconcile job, without cron, on real processes)', () => {
  it('SINGLE: restarts a wanted daemon through the reviver once two runs find it dead, logged and counted', async () => {
    const t = await setup();
    await t.state.update((s) => {
      s.lvsListeners[L1] = lvsEntry(L1);
      s.loadBalancers[LB] = lbEntry(LB);
    });
    const keepalived = daemonProcess(t.specs.lvs(L1));
    daemonProcess(t.specs.haproxy(LB));
    t.revival.onStart = (kind, id) => void daemonProcess(kind === 'lvs' ? t.specs.lvs(id) : t.specs.haproxy(id));
    await t.tick();
    expect(t.dead()).toEqual([]);

    await kill(keepalived);
    // first sighting: only a suspect (a stop may be recording itself right now)
    await t.tick();
    expect(t.revival.calls).toEqual([]);
    await t.tick();
    expect(t.revival.calls).toEqual([`lvs ${L1}`]);
    expect(t.dead()).toEqual([]);
    await t.tick();
    await t.tick();
    const unit = t.specs.lvs(L1).unit;
    expect(t.revival.calls).toEqual([`lvs ${L1}`]);
    expect(t.warnings()).toEqual([
      [DIED, unit],
      [RESTARTED, unit],
    ]);
    expect(t.counts()).toEqual([['lvs', 'started', 1]]);
  });

  it('a failed restart is logged, counted and tried again after the backoff; a start by someone else ends it', async () => {
    const t = await setup();
    await t.state.update((s) => void (s.lvsListeners[L1] = lvsEntry(L1)));
    t.revival.answer = new Error('keepalived exited with status 1');
    await t.tick();
    await t.tick();
    expect(t.revival.calls).toHaveLength(1);
    expect(t.dead()).toEqual([['lvs', L1, 'absent']]);
    // backoff: 30 s after the first attempt
    await t.tick();
    await t.tick();
    expect(t.revival.calls).toHaveLength(1);
    await t.tick();
    expect(t.revival.calls).toHaveLength(2);
    expect(t.counts()).toEqual([['lvs', 'failed', 2]]);
    // started again (by the controller, an operator): back, and no more restarts
    daemonProcess(t.specs.lvs(L1));
    await t.tick();
    expect(t.dead()).toEqual([]);
    const unit = t.specs.lvs(L1).unit;
    expect(t.warnings()).toEqual([
      [DIED, unit],
      ['restarting a dead daemon failed', unit],
      ['restarting a dead daemon failed', unit],
      ['daemon is running again', unit],
    ]);
  });

  it('a daemon that keeps dying is restarted 3 times with a doubling backoff, then left dead until someone starts it', async () => {
    const t = await setup();
    await t.state.update((s) => void (s.loadBalancers[LB] = lbEntry(LB)));
    // "started": proven healthy, then dead again before the next run
    const at: number[] = [];
    t.revival.onStart = () => void at.push(t.clock.now().getTime());
    for (let i = 0; i < 40; i++) await t.tick();
    expect(at.map((ms) => (ms - at[0]!) / 1000)).toEqual([0, 30, 90]);
    expect(t.counts()).toEqual([
      ['haproxy', 'started', 3],
      ['haproxy', 'given_up', 1],
    ]);
    expect(t.dead()).toEqual([['haproxy', LB, 'absent']]);
    expect(t.warnings().filter(([m]) => String(m).startsWith('daemon keeps dying'))).toHaveLength(1);
    // the controller starts it: the count is cleared, a later death is restarted again
    const again = daemonProcess(t.specs.haproxy(LB));
    await t.tick();
    await kill(again);
    await t.tick();
    await t.tick();
    expect(at).toHaveLength(4);
  });

  it('ACTIVE_STANDBY: waits the VRRP failover time (read from its config) and a margin before restarting a listener daemon', async () => {
    const t = await setup();
    mkdirSync(dirname(t.paths.vrrpConfig), { recursive: true });
    writeFileSync(t.paths.vrrpConfig, VRRP_CONFIG);
    await t.state.update((s) => {
      s.lvsListeners[L1] = lvsEntry(L1);
      s.vrrp = { wantRunning: true, installedHash: 'h', appliedHash: 'h' };
    });
    daemonProcess(t.specs.vrrp());
    const started: number[] = [];
    const first = t.clock.now().getTime();
    t.revival.onStart = (_kind, id) => {
      started.push(t.clock.now().getTime());
      daemonProcess(t.specs.lvs(id));
    };
    // first seen dead at 0 s, confirmed at 10 s; grace 10 s failover + 10 s margin
    for (let i = 0; i < 4; i++) await t.tick();
    expect(started.map((ms) => (ms - first) / 1000)).toEqual([20]);
  });

  it('never restarts the VRRP keepalived (its death moves the VIP): listed and logged only', async () => {
    const t = await setup();
    mkdirSync(dirname(t.paths.vrrpConfig), { recursive: true });
    writeFileSync(t.paths.vrrpConfig, VRRP_CONFIG);
    await t.state.update((s) => void (s.vrrp = { wantRunning: true, installedHash: 'h', appliedHash: 'h' }));
    for (let i = 0; i < 10; i++) await t.tick();
    expect(t.dead()).toEqual([['vrrp', null, 'absent']]);
    expect(t.revival.calls).toEqual([]);
    expect(t.warnings()).toHaveLength(1);
  });

  it('a daemon seen dead only once (it came back, or was stopped meanwhile) is never reported nor restarted', async () => {
    const t = await setup();
    await t.state.update((s) => void (s.lvsListeners[L1] = lvsEntry(L1)));
    const first = daemonProcess(t.specs.lvs(L1));
    await kill(first);
    await t.tick();
    daemonProcess(t.specs.lvs(L1));
    await t.tick();
    await t.tick();
    expect(t.dead()).toEqual([]);
    // stopped: the process goes, and then the state says so
    await removeFile(t.paths.lvsPidFile(L1));
    await t.tick();
    await t.state.update((s) => void (s.lvsListeners[L1] = lvsEntry(L1, false)));
    await t.tick();
    await t.tick();
    expect(t.dead()).toEqual([]);
    expect(t.warnings()).toEqual([]);
    expect(t.revival.calls).toEqual([]);
  });

  it('a restart the owner refuses (stopped or deleted meanwhile, or started by someone) is not counted', async () => {
    const t = await setup();
    await t.state.update((s) => void (s.lvsListeners[L1] = lvsEntry(L1)));
    t.revival.answer = 'not-wanted';
    await t.tick();
    await t.tick();
    expect(t.revival.calls).toHaveLength(1);
    expect(t.counts()).toEqual([]);
    expect(t.dead()).toEqual([]);
  });

  it('ignores daemons that are not wanted; the VRRP keepalived counts only with its config installed', async () => {
    const t = await setup();
    await t.state.update((s) => {
      s.lvsListeners[L2] = { id: L2, wantRunning: false, protocol: 'SCTP', installed: null, applied: null };
      s.vrrp = { wantRunning: true, installedHash: 'h', appliedHash: null };
    });
    await t.tick();
    await t.tick();
    // no config on disk: not installed, nothing to run
    expect(t.dead()).toEqual([]);
    mkdirSync(dirname(t.paths.vrrpConfig), { recursive: true });
    writeFileSync(t.paths.vrrpConfig, 'vrrp_instance VI_1 {}\n');
    await t.tick();
    await t.tick();
    expect(t.dead()).toEqual([['vrrp', null, 'absent']]);
    expect(t.revival.calls).toEqual([]);
  });

  it('forgets a dead daemon that is deleted', async () => {
    const t = await setup();
    await t.state.update((s) => void (s.loadBalancers[LB] = lbEntry(LB)));
    t.revival.answer = new Error('haproxy exited');
    await t.tick();
    await t.tick();
    expect(t.dead()).toEqual([['haproxy', LB, 'absent']]);
    await t.state.update((s) => void delete s.loadBalancers[LB]);
    await t.tick();
    expect(t.dead()).toEqual([]);
  });
});
