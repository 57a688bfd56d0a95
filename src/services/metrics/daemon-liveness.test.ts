/**
 * Daemon liveness from real pid files and real processes (/proc): a running `sleep` is alive, one
 * that has exited is not, a daemon without a pid file is not; what the agent was asked to run
 * comes from the state registry. Read through AgentMetrics, as /metrics shows it.
 */
import type { ChildProcess } from 'node:child_process';
import { spawnStandIn } from '../../../test/support/daemon-stand-in.js';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parsePromText } from '../../../test/support/prom-text.js';
import { parseConfig } from '../../config/load.js';
import { silentLogger } from '../../log.js';
import type { Uuid } from '../../model/uuid.js';
import { createPaths } from '../../system/paths.js';
import { DaemonSpecs, haproxyIdentity, lvsIdentity } from '../daemon-specs.js';
import { StateStore } from '../state.js';
import { AgentMetrics } from './agent-metrics.js';
import { DaemonLivenessReader } from './daemon-liveness.js';

const RUNNING = '11111111-1111-4111-8111-111111111111' as Uuid;
const DIED = '22222222-2222-4222-8222-222222222222' as Uuid;
const STOPPED = '33333333-3333-4333-8333-333333333333' as Uuid;
const LB = '44444444-4444-4444-8444-444444444444' as Uuid;

const children: ChildProcess[] = [];
const root = mkdtempSync(join(tmpdir(), 'metrics-liveness-'));

/** A real process standing in for a daemon, known by its pid from the moment it is spawned. */
function standIn(child: ChildProcess): ChildProcess {
  children.push(child);
  return child;
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

describe('DaemonLivenessReader', () => {
  it('reports alive from pid files naming live processes, and wanted from the state', async () => {
    const config = parseConfig([{ path: '/x.conf', text: `[haproxy_amphora]\nbase_path = ${root}/lib\n[amphora_agent]\nproc_dir = /proc\n` }]).config;
    const paths = createPaths(config);
    mkdirSync(paths.lvsDir, { recursive: true });
    mkdirSync(paths.vrrpDir, { recursive: true });
    mkdirSync(paths.haproxyDir(LB), { recursive: true });
    const state = new StateStore(paths.stateFile);
    await state.update((s) => {
      for (const [id, wantRunning] of [[RUNNING, true], [DIED, true], [STOPPED, false]] as const) {
        s.lvsListeners[id] = { id, wantRunning, protocol: 'UDP', installed: null, applied: null };
      }
      s.loadBalancers[LB] = { id: LB, wantRunning: true, listeners: [], installedHash: null, appliedHash: null, upload: null };
      s.vrrp = { wantRunning: true, installedHash: null, appliedHash: null };
    });

    const bin = join(root, 'bin');
    const live = standIn(spawnStandIn(bin, lvsIdentity(paths, RUNNING)));
    const dead = standIn(spawnStandIn(bin, lvsIdentity(paths, DIED)));
    const haproxy = standIn(spawnStandIn(bin, haproxyIdentity(paths, LB)));
    writeFileSync(paths.lvsPidFile(RUNNING), `${live.pid}\n`);
    writeFileSync(paths.lvsPidFile(DIED), `${dead.pid}\n`);
    writeFileSync(paths.haproxyPidFile(LB), `${haproxy.pid}\n`);
    dead.kill('SIGKILL');
    await exited(dead);
    // no pid file for STOPPED, nor for the VRRP keepalived

    const metrics = new AgentMetrics({ daemons: new DaemonLivenessReader(state, new DaemonSpecs(() => config, paths), paths), processMetrics: false, log: silentLogger() });
    const text = parsePromText(await metrics.scrape());
    const both = (labels: Record<string, string>) => [text.value('amphora_daemon_wanted', labels), text.value('amphora_daemon_alive', labels)];
    expect(both({ daemon: 'keepalived_lvs', listener_id: RUNNING })).toEqual([1, 1]);
    expect(both({ daemon: 'keepalived_lvs', listener_id: DIED })).toEqual([1, 0]);
    expect(both({ daemon: 'keepalived_lvs', listener_id: STOPPED })).toEqual([0, 0]);
    expect(both({ daemon: 'haproxy', load_balancer_id: LB })).toEqual([1, 1]);
    expect(both({ daemon: 'keepalived_vrrp' })).toEqual([1, 0]);
    expect(text.value('amphora_metrics_source_up', { source: 'daemons' })).toBe(1);

    haproxy.kill('SIGKILL');
    await exited(haproxy);
    const after = parsePromText(await metrics.scrape());
    expect(after.value('amphora_daemon_alive', { daemon: 'haproxy', load_balancer_id: LB })).toBe(0);
  });
});
