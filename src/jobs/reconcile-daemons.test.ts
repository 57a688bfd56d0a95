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
  const reconciler = new DaemonReconciler({ state, specs, paths, log });
  const warnings = () => lines.filter((l) => l['level'] === 40).map((l) => [l['msg'], l['unit']]);
  const dead = () => reconciler.deadDaemons().map((d) => [d.kind, d.id, d.pidFile]);
  return { paths, state, specs, reconciler, warnings, dead };
}

describe('DaemonReconciler (the reconcile job, without cron, on real processes)', () => {
  it('reports a wanted daemon whose process died once two runs find it dead, once, and once when it is back', async () => {
    const t = await setup();
    await t.state.update((s) => {
      s.lvsListeners[L1] = { id: L1, wantRunning: true, protocol: 'UDP', installed: null, applied: null };
      s.loadBalancers[LB] = { id: LB, wantRunning: true, listeners: [], installedHash: null, appliedHash: null, upload: null };
    });
    const keepalived = daemonProcess(t.specs.lvs(L1));
    daemonProcess(t.specs.haproxy(LB));
    await t.reconciler.run();
    expect(t.dead()).toEqual([]);

    await kill(keepalived);
    // first sighting: only a suspect (a stop may be recording itself right now)
    await t.reconciler.run();
    expect(t.dead()).toEqual([]);
    await t.reconciler.run();
    expect(t.dead()).toEqual([['lvs', L1, 'stale']]);
    await t.reconciler.run();
    await t.reconciler.run();
    const unit = t.specs.lvs(L1).unit;
    expect(t.warnings()).toEqual([['daemon should be running and is not (not restarted)', unit]]);

    // started again (by the controller, an operator): back
    daemonProcess(t.specs.lvs(L1));
    await t.reconciler.run();
    expect(t.dead()).toEqual([]);
    expect(t.warnings()).toEqual([
      ['daemon should be running and is not (not restarted)', unit],
      ['daemon is running again', unit],
    ]);
  });

  it('a daemon seen dead only once (it came back, or was stopped meanwhile) is never reported', async () => {
    const t = await setup();
    await t.state.update((s) => void (s.lvsListeners[L1] = { id: L1, wantRunning: true, protocol: 'UDP', installed: null, applied: null }));
    const first = daemonProcess(t.specs.lvs(L1));
    await kill(first);
    await t.reconciler.run();
    daemonProcess(t.specs.lvs(L1));
    await t.reconciler.run();
    await t.reconciler.run();
    expect(t.dead()).toEqual([]);
    // stopped: the process goes, and then the state says so
    await removeFile(t.paths.lvsPidFile(L1));
    await t.reconciler.run();
    await t.state.update((s) => void (s.lvsListeners[L1] = { id: L1, wantRunning: false, protocol: 'UDP', installed: null, applied: null }));
    await t.reconciler.run();
    await t.reconciler.run();
    expect(t.dead()).toEqual([]);
    expect(t.warnings()).toEqual([]);
  });

  it('ignores daemons that are not wanted; the VRRP keepalived counts only with its config installed', async () => {
    const t = await setup();
    await t.state.update((s) => {
      s.lvsListeners[L2] = { id: L2, wantRunning: false, protocol: 'SCTP', installed: null, applied: null };
      s.vrrp = { wantRunning: true, installedHash: 'h', appliedHash: null };
    });
    await t.reconciler.run();
    await t.reconciler.run();
    // no config on disk: not installed, nothing to run
    expect(t.dead()).toEqual([]);
    mkdirSync(dirname(t.paths.vrrpConfig), { recursive: true });
    writeFileSync(t.paths.vrrpConfig, 'vrrp_instance VI_1 {}\n');
    await t.reconciler.run();
    await t.reconciler.run();
    expect(t.dead()).toEqual([['vrrp', null, 'absent']]);
  });

  it('forgets a dead daemon that is deleted', async () => {
    const t = await setup();
    await t.state.update((s) => void (s.loadBalancers[LB] = { id: LB, wantRunning: true, listeners: [], installedHash: null, appliedHash: null, upload: null }));
    await t.reconciler.run();
    await t.reconciler.run();
    expect(t.dead()).toEqual([['haproxy', LB, 'absent']]);
    await t.state.update((s) => void delete s.loadBalancers[LB]);
    await t.reconciler.run();
    expect(t.dead()).toEqual([]);
  });
});
