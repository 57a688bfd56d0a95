import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import type { Uuid } from '../model/uuid.js';
import { createPaths } from '../system/paths.js';
import { pidFileState, type DaemonIdentity } from '../system/processes.js';
import { CheckScripts } from './check-scripts.js';
import { haproxyIdentity, lvsIdentity } from './daemon-specs.js';
import { StateStore } from './state.js';

const A = 'aaaaaaaa-0000-0000-0000-000000000001' as Uuid;
const B = 'aaaaaaaa-0000-0000-0000-000000000002' as Uuid;

async function setup() {
  const root = mkdtempSync(join(tmpdir(), 'checks-'));
  const config = parseConfig([{ path: '/x.conf', text: `[haproxy_amphora]\nbase_path = ${root}/lib\n[amphora_agent]\nproc_dir = ${root}/proc\n` }]).config;
  const paths = createPaths(config);
  const state = new StateStore(paths.stateFile);
  await state.load();
  const scripts = new CheckScripts(paths, state);
  mkdirSync(paths.lvsDir, { recursive: true });
  let pid = 100;
  /**
   * A "process": a pid file and, when alive, a proc entry with that comm and, as its arguments,
   * `-f <config> -p <pid file>` of the daemon it was started as (none: another program's).
   */
  const proc = (pidFile: string, comm: string | null, as?: DaemonIdentity) => {
    pid++;
    mkdirSync(dirname(pidFile), { recursive: true });
    writeFileSync(pidFile, `${pid}\n`);
    if (comm !== null) {
      mkdirSync(join(root, 'proc', String(pid)), { recursive: true });
      writeFileSync(join(root, 'proc', String(pid), 'comm'), `${comm}\n`);
      const argv = as === undefined ? [comm, '600'] : [comm, '--dont-fork', '-f', as.config, '-p', as.pidFile, '-r', `${as.pidFile}-vrrp`];
      writeFileSync(join(root, 'proc', String(pid), 'cmdline'), argv.map((a) => `${a}\0`).join(''));
    }
    return pid;
  };
  const want = async (id: Uuid, wantRunning: boolean, hasVirtualServer = true) => {
    await state.update((s) => void (s.lvsListeners[id] = { id, wantRunning, protocol: 'UDP', installed: null, applied: { hash: 'h', virtualServers: hasVirtualServer } }));
    await scripts.writeLvsLiveness();
  };
  const run = (script: string) => spawnSync('/bin/sh', [script], { encoding: 'utf8' });
  return { root, paths, scripts, proc, want, run, scriptsState: state };
}

describe('LVS liveness check script', () => {
  it('passes when no listener is configured', async () => {
    const t = await setup();
    await t.scripts.writeLvsLiveness();
    expect(t.run(t.paths.lvsLivenessCheckScript).status).toBe(0);
  });

  it('passes when every wanted keepalived and its checker are alive', async () => {
    const t = await setup();
    t.proc(t.paths.lvsPidFile(A), 'keepalived', lvsIdentity(t.paths, A));
    t.proc(t.paths.lvsCheckPidFile(A), 'keepalived', lvsIdentity(t.paths, A));
    t.proc(t.paths.lvsPidFile(B), 'keepalived', lvsIdentity(t.paths, B));
    await t.want(A, true);
    await t.want(B, true, false); // idle keepalived (disabled listener): no checker child expected
    expect(t.run(t.paths.lvsLivenessCheckScript).status).toBe(0);
    // the agent judges the same facts
    expect(await pidFileState(t.paths, t.paths.lvsCheckPidFile(A), lvsIdentity(t.paths, A))).toBe('alive');
    expect(await pidFileState(t.paths, t.paths.lvsPidFile(B), lvsIdentity(t.paths, B))).toBe('alive');
  });

  it.each([
    ['a crashed keepalived (stale pid file)', (t: Awaited<ReturnType<typeof setup>>) => void t.proc(t.paths.lvsPidFile(A), null)],
    ['a missing pid file', () => undefined],
    ['a pid reused by another program', (t: Awaited<ReturnType<typeof setup>>) => void t.proc(t.paths.lvsPidFile(A), 'sleep')],
    ['a pid reused by the keepalived of another listener', (t: Awaited<ReturnType<typeof setup>>) => void t.proc(t.paths.lvsPidFile(A), 'keepalived', lvsIdentity(t.paths, B))],
    ['a pid reused by a keepalived of a config named like it', (t: Awaited<ReturnType<typeof setup>>) => void t.proc(t.paths.lvsPidFile(A), 'keepalived', { ...lvsIdentity(t.paths, A), config: `${t.paths.lvsConfig(A)}.new` })],
  ])('fails for %s and names the listener', async (_name, arrange) => {
    const t = await setup();
    arrange(t);
    await t.want(A, true, false);
    const r = t.run(t.paths.lvsLivenessCheckScript);
    expect(r.status).not.toBe(0);
    expect(r.stdout).toContain(`LVS listener ${A}: keepalived is not running`);
    // and so does the agent (/1.0/listeners, the heartbeat)
    expect(await pidFileState(t.paths, t.paths.lvsPidFile(A), lvsIdentity(t.paths, A))).not.toBe('alive');
  });

  it('fails when the health-checker child of a listener with virtual servers died', async () => {
    const t = await setup();
    t.proc(t.paths.lvsPidFile(A), 'keepalived', lvsIdentity(t.paths, A));
    t.proc(t.paths.lvsCheckPidFile(A), null);
    await t.want(A, true);
    expect(t.run(t.paths.lvsLivenessCheckScript).status).not.toBe(0);
  });

  it('ignores a listener stopped on purpose', async () => {
    const t = await setup();
    t.proc(t.paths.lvsPidFile(A), null);
    await t.want(A, false);
    expect(t.run(t.paths.lvsLivenessCheckScript).status).toBe(0);
  });

  it('forks nothing per listener (shell builtins only)', async () => {
    const t = await setup();
    for (let i = 0; i < 3; i++) {
      const id = `aaaaaaaa-0000-0000-0000-00000000001${i}` as Uuid;
      t.proc(t.paths.lvsPidFile(id), 'keepalived', lvsIdentity(t.paths, id));
      await t.want(id, true, false);
    }
    // with PATH empty, any external command would fail with "not found"
    const r = spawnSync('/bin/sh', [t.paths.lvsLivenessCheckScript], { encoding: 'utf8', env: { PATH: '/nonexistent' } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('haproxy liveness check script', () => {
  const wantLb = async (t: Awaited<ReturnType<typeof setup>>, id: Uuid, wantRunning: boolean) => {
    await t.scriptsState.update((s) => void (s.loadBalancers[id] = { id, wantRunning, listeners: [], installedHash: null, appliedHash: null, upload: null }));
    await t.scripts.writeHaproxyLiveness();
  };

  it('passes with no load balancer and when every wanted haproxy master is alive', async () => {
    const t = await setup();
    await t.scripts.writeHaproxyLiveness();
    expect(t.run(t.paths.haproxyLivenessCheckScript).status).toBe(0);
    t.proc(t.paths.haproxyPidFile(A), 'haproxy', haproxyIdentity(t.paths, A));
    await wantLb(t, A, true);
    expect(t.run(t.paths.haproxyLivenessCheckScript).status).toBe(0);
  });

  it.each([
    ['a crashed haproxy (stale pid file)', (t: Awaited<ReturnType<typeof setup>>) => void t.proc(t.paths.haproxyPidFile(A), null)],
    ['a missing pid file', () => undefined],
    ['a pid reused by another program', (t: Awaited<ReturnType<typeof setup>>) => void t.proc(t.paths.haproxyPidFile(A), 'keepalived')],
    ['a pid reused by the haproxy of another load balancer', (t: Awaited<ReturnType<typeof setup>>) => void t.proc(t.paths.haproxyPidFile(A), 'haproxy', haproxyIdentity(t.paths, B))],
  ])('fails for %s and names the load balancer', async (_name, arrange) => {
    const t = await setup();
    arrange(t);
    await wantLb(t, A, true);
    const r = t.run(t.paths.haproxyLivenessCheckScript);
    expect(r.status).not.toBe(0);
    expect(r.stdout).toContain(`load balancer ${A}: haproxy is not running`);
    expect(await pidFileState(t.paths, t.paths.haproxyPidFile(A), haproxyIdentity(t.paths, A))).not.toBe('alive');
  });

  it('ignores a load balancer that should not run', async () => {
    const t = await setup();
    await wantLb(t, A, false);
    expect(t.run(t.paths.haproxyLivenessCheckScript).status).toBe(0);
  });
});

describe('VRRP check script', () => {
  it('passes with no checks, fails when any check fails, and says which', async () => {
    const t = await setup();
    await t.scripts.writeVrrpCheck();
    expect(t.run(t.paths.vrrpCheckScript).status).toBe(0);
    writeFileSync(join(t.paths.vrrpCheckScriptsDir, 'ok.sh'), 'exit 0\n');
    expect(t.run(t.paths.vrrpCheckScript).status).toBe(0);
    writeFileSync(join(t.paths.vrrpCheckScriptsDir, 'bad.sh'), 'exit 3\n');
    const r = t.run(t.paths.vrrpCheckScript);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('bad.sh');
    rmSync(join(t.paths.vrrpCheckScriptsDir, 'bad.sh'));
    expect(t.run(t.paths.vrrpCheckScript).status).toBe(0);
  });

  it('runs the LVS liveness check as one of its checks', async () => {
    const t = await setup();
    await t.scripts.writeVrrpCheck();
    t.proc(t.paths.lvsPidFile(A), null);
    await t.want(A, true, false);
    expect(t.run(t.paths.vrrpCheckScript).status).toBe(1);
    execFileSync('sh', ['-n', t.paths.vrrpCheckScript]);
  });
});

describe('script directory safety', () => {
  it('names a base path directory that others may write to, as keepalived would refuse it', async () => {
    const t = await setup();
    execFileSync('chmod', ['0777', t.paths.base]);
    expect(await t.scripts.scriptDirectoryProblems()).toContain(`${t.paths.base} is writable by group or others`);
    execFileSync('chmod', ['0755', t.paths.base]);
    const problems = await t.scripts.scriptDirectoryProblems();
    // as root in a private temp dir under the sticky /tmp, nothing is unsafe
    if (process.getuid?.() === 0) expect(problems).toEqual([]);
    else expect(problems.some((p) => p.includes('not root'))).toBe(true);
  });
});

describe('udp_check.sh', () => {
  it('is a valid script that insists on an address and a port', async () => {
    const t = await setup();
    await t.scripts.writeUdpCheck();
    execFileSync('bash', ['-n', t.paths.udpCheckScript]);
    expect(t.run(t.paths.udpCheckScript).status).toBe(2);
  });
});
