/**
 * The sysvinit script the agent renders for an LVS listener's keepalived
 * (render/init-units.ts, templates/init/sysvinit/daemon.sh.njk), really run: lint, then
 * start/status/reload/stop/restart against a real keepalived in a network namespace of the
 * test's own, including a stale pid file after a crash. Then the same through the agent:
 * init_system = sysvinit with sysvinit_dir under a temporary root, driven over mTLS.
 *
 * The listener config is Octavia's render for a disabled listener (only `net_namespace`):
 * this host has no IPVS, and keepalived idles on such a config.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { AgentConfig } from '../../src/config/schema.js';
import type { AgentHandle } from '../../src/main.js';
import type { Uuid } from '../../src/model/uuid.js';
import { renderDaemonUnit, renderNetnsUnit } from '../../src/render/init-units.js';
import type { DaemonUnitSpec } from '../../src/system/init/types.js';
import { renderLvsLivenessCheck, renderNetnsSetup, renderUdpCheck, renderVrrpCheck } from '../../src/render/scripts.js';
import { DaemonSpecs } from '../../src/services/daemon-specs.js';
import { createPaths, type Paths } from '../../src/system/paths.js';
import { GEN_CERTS, createAgentRoot, removeDir, startInProcess, type AgentRoot } from '../support/agent-fixture.js';
import {
  RENDER_SCRIPT,
  addNetns,
  agentClient,
  crash,
  deleteNetns,
  describeResponse,
  isGone,
  isRunning,
  jsonOf,
  keepalivedsWithConfig,
  netnsInode,
  procComm,
  processNetnsInode,
  readPidFile,
  renderLvs,
  sh,
  show,
  uniqueName,
  waitFor,
  type AgentClient,
} from '../support/keepalived-fixture.js';
import { tierCanRun } from '../support/requirements.js';

const canRun = tierCanRun('integration: sysvinit scripts with real keepalived', {
  root: true,
  binaries: ['keepalived', 'ip', 'openssl', 'setsid'],
  python: 'octavia',
  files: [GEN_CERTS, RENDER_SCRIPT],
});
const canLint = canRun && tierCanRun('integration: sysvinit scripts, shellcheck', { binaries: ['shellcheck'] });

describe.skipIf(!canRun)('sysvinit scripts for LVS keepalived', () => {
  const ns = uniqueName('sv');
  let root: AgentRoot;
  let config: AgentConfig;
  let paths: Paths;

  const expectKeepalivedInNamespace = async (pid: number) => {
    expect(await isRunning(pid)).toBe(true);
    expect(await procComm(pid)).toBe('keepalived');
    expect(await processNetnsInode(pid)).toBe(await netnsInode(ns));
  };

  beforeAll(async () => {
    await addNetns(ns);
    root = await createAgentRoot({
      overrides: { amphora_agent: { init_system: 'sysvinit', network_namespace: ns, process_settle_seconds: '0.5' } },
    });
    config = (await loadConfig([root.configFile])).config;
    paths = createPaths(config);
    // the netns setup script every daemon script runs first
    await mkdir(paths.base, { recursive: true });
    await writeFile(paths.netnsSetupScript, renderNetnsSetup({ namespace: ns, lockFile: paths.netnsLockFile, ipCmd: config.amphora_agent.ip_cmd, loadModules: true }), { mode: 0o755 });
  });

  afterAll(async () => {
    // every keepalived of this file runs inside the test's namespace: deleteNetns stops them by pid
    await deleteNetns(ns);
    await removeDir(root?.dir);
  });

  describe('the rendered script, run by hand', () => {
    const L = randomUUID() as Uuid;
    let spec: DaemonUnitSpec;
    let script: string;
    const run = (action: string) => sh(script, [action]);
    const pidOf = async () => {
      const pid = await readPidFile(spec.pidFile);
      if (pid === undefined) throw new Error(`no pid file ${spec.pidFile}`);
      return pid;
    };

    beforeAll(async () => {
      spec = new DaemonSpecs(() => config, paths).lvs(L);
      await mkdir(paths.lvsDir, { recursive: true });
      await writeFile(paths.lvsConfig(L), await renderLvs({ listener_id: L, listener_enabled: false }, ns));
      const dir = root.at('by-hand/init.d');
      await mkdir(dir, { recursive: true });
      script = join(dir, spec.unit);
      await writeFile(script, renderDaemonUnit('sysvinit', spec), { mode: 0o755 });
    });

    it('passes sh -n', async () => {
      const r = await sh('sh', ['-n', script]);
      expect(r.code, show(r)).toBe(0);
    });

    it.skipIf(!canLint)('passes shellcheck, as do the other scripts the agent renders', async () => {
      const dir = root.at('lint');
      await mkdir(dir, { recursive: true });
      const netns = { unit: 'amphora-netns', namespace: ns, setupScript: paths.netnsSetupScript };
      const files: Record<string, string> = {
        'daemon-lvs': renderDaemonUnit('sysvinit', spec),
        'daemon-vrrp': renderDaemonUnit('sysvinit', new DaemonSpecs(() => config, paths).vrrp()),
        // with the open-file limit's ulimit line
        'daemon-haproxy': renderDaemonUnit('sysvinit', new DaemonSpecs(() => config, paths).haproxy(L)),
        'netns-unit': renderNetnsUnit('sysvinit', netns),
        'netns-setup.sh': renderNetnsSetup({ namespace: ns, lockFile: paths.netnsLockFile, ipCmd: '/sbin/ip', loadModules: true }),
        'vrrp-check.sh': renderVrrpCheck(paths.vrrpCheckScriptsDir),
        'lvs-liveness.sh': renderLvsLivenessCheck('/proc', [{ id: L, pidFile: paths.lvsPidFile(L), config: paths.lvsConfig(L), checkPidFile: paths.lvsCheckPidFile(L) }]),
        'lvs-liveness-empty.sh': renderLvsLivenessCheck('/proc', []),
        'udp-check.sh': renderUdpCheck(),
      };
      for (const [name, text] of Object.entries(files)) {
        const file = join(dir, name);
        await writeFile(file, text, { mode: 0o755 });
        // each as the shell its first line names (udp-check.sh is bash: one process, no sleep)
        const r = await sh('shellcheck', ['--shell', text.startsWith('#!/bin/bash') ? 'bash' : 'sh', file]);
        expect(r.code, `shellcheck ${name}: ${show(r)}`).toBe(0);
      }
    });

    it('start: keepalived runs inside the namespace; status exits 0', async () => {
      const r = await run('start');
      expect(r.code, show(r)).toBe(0);
      const pid = await pidOf();
      expect(r.stdout).toContain(`${spec.unit} started (pid ${pid})`);
      await expectKeepalivedInNamespace(pid);
      const status = await run('status');
      expect(status.code, show(status)).toBe(0);
      expect(status.stdout).toContain(`is running (pid ${pid})`);
    });

    it('a second start does not start a second keepalived', async () => {
      const pid = await pidOf();
      const r = await run('start');
      expect(r.code, show(r)).toBe(0);
      expect(r.stdout).toContain('already running');
      expect(await pidOf()).toBe(pid);
      expect(await keepalivedsWithConfig(ns, paths.lvsConfig(L))).toEqual([pid]);
    });

    it('reload sends SIGHUP: keepalived re-reads its config and survives', async () => {
      const pid = await pidOf();
      const before = (await readFile(spec.logFile, 'utf8')).length;
      const r = await run('reload');
      expect(r.code, show(r)).toBe(0);
      await waitFor('keepalived to log the reload', async () => /Reloading/.test((await readFile(spec.logFile, 'utf8')).slice(before)), 15_000);
      expect(await pidOf()).toBe(pid);
      await expectKeepalivedInNamespace(pid);
    });

    it('stop stops it, status then exits 3, and a second stop exits 0', async () => {
      const pid = await pidOf();
      const r = await run('stop');
      expect(r.code, show(r)).toBe(0);
      await waitFor(`pid ${pid} to be gone`, async () => !(await isRunning(pid)), 15_000);
      expect(existsSync(spec.pidFile)).toBe(false);
      const status = await run('status');
      expect(status.code, show(status)).toBe(3);
      const again = await run('stop');
      expect(again.code, show(again)).toBe(0);
      expect(again.stdout).toContain('is not running');
      const reload = await run('reload');
      expect(reload.code, show(reload)).toBe(7);
    });

    it('handles a stale pid file after kill -9: status 3, start starts a new keepalived', async () => {
      expect((await run('start')).code).toBe(0);
      const old = await pidOf();
      await crash(old);
      expect(existsSync(spec.pidFile)).toBe(true);
      const status = await run('status');
      expect(status.code, show(status)).toBe(3);
      const r = await run('start');
      expect(r.code, show(r)).toBe(0);
      const pid = await pidOf();
      expect(pid).not.toBe(old);
      await expectKeepalivedInNamespace(pid);
    });

    it('restart replaces the process; an unknown action exits 2', async () => {
      const old = await pidOf();
      const r = await run('restart');
      expect(r.code, show(r)).toBe(0);
      const pid = await pidOf();
      expect(pid).not.toBe(old);
      await expectKeepalivedInNamespace(pid);
      expect(await isGone(old)).toBe(true);
      const bad = await run('explode');
      expect(bad.code, show(bad)).toBe(2);
      expect((await run('stop')).code).toBe(0);
      await waitFor(`pid ${pid} to be gone`, async () => !(await isRunning(pid)), 15_000);
    });
  });

  describe('through the agent (init_system = sysvinit, sysvinit_dir under the temporary root)', () => {
    const L = randomUUID() as Uuid;
    let agent: AgentHandle;
    let api: AgentClient;
    let script: string;
    const act = (action: string) => api.request('PUT', `/1.0/loadbalancer/${L}/${action}`);
    const pidOf = async () => {
      const pid = await readPidFile(paths.lvsPidFile(L));
      if (pid === undefined) throw new Error('no pid file');
      return pid;
    };

    beforeAll(async () => {
      agent = await startInProcess(root);
      api = await agentClient(root.pki, agent.port);
      script = paths.sysvinitScript(`octavia-keepalivedlvs-${L}`);
    });

    afterAll(async () => {
      await agent?.close();
    });

    it('upload installs the LSB scripts; reload starts keepalived through the script', async () => {
      expect(config.amphora_agent.sysvinit_dir).toBe(root.at('etc/init.d'));
      const up = await api.request('PUT', `/1.0/listeners/${root.pki.amphoraId}/${L}/udp_listener`, await renderLvs({ listener_id: L, listener_enabled: false }, ns));
      expect(up.status, describeResponse(up)).toBe(200);
      expect(statSync(script).mode & 0o777).toBe(0o755);
      expect(statSync(paths.sysvinitScript('amphora-netns')).mode & 0o777).toBe(0o755);
      expect(await readFile(script, 'utf8')).toContain(`PIDFILE=${paths.lvsPidFile(L)}`);

      const res = await act('reload');
      expect(res.status, describeResponse(res)).toBe(202);
      expect(jsonOf(res)).toEqual({ message: 'OK', details: `keepalivedlvs listener ${L} started` });
      const pid = await pidOf();
      await expectKeepalivedInNamespace(pid);
      const status = await sh(script, ['status']);
      expect(status.code, show(status)).toBe(0);
      const listed = await api.request('GET', '/1.0/listeners');
      expect(jsonOf(listed)).toEqual([{ status: 'OFFLINE', uuid: L, type: 'UDP' }]);
    });

    it('an unchanged reload leaves the process alone; after a crash, start brings it back', async () => {
      const pid = await pidOf();
      const res = await act('reload');
      expect(res.status, describeResponse(res)).toBe(202);
      expect((jsonOf(res) as { details: string }).details).toMatch(/not restarted/);
      expect(await pidOf()).toBe(pid);

      await crash(pid);
      expect(jsonOf(await api.request('GET', '/1.0/listeners'))).toEqual([{ status: 'ERROR', uuid: L, type: 'UDP' }]);
      const started = await act('start');
      expect(started.status, describeResponse(started)).toBe(202);
      const again = await pidOf();
      expect(again).not.toBe(pid);
      await expectKeepalivedInNamespace(again);
    });

    it('stop through the API stops it (status 3); DELETE removes the script', async () => {
      const pid = await pidOf();
      const res = await act('stop');
      expect(res.status, describeResponse(res)).toBe(202);
      await waitFor(`pid ${pid} to be gone`, async () => !(await isRunning(pid)), 15_000);
      expect((await sh(script, ['status'])).code).toBe(3);
      expect(jsonOf(await api.request('GET', '/1.0/listeners'))).toEqual([{ status: 'OFFLINE', uuid: L, type: 'UDP' }]);
      const del = await api.request('DELETE', `/1.0/listeners/${L}`);
      expect(del.status, describeResponse(del)).toBe(200);
      expect(existsSync(script)).toBe(false);
      expect(existsSync(paths.lvsConfig(L))).toBe(false);
    });
  });
});
