/**
 * LVS listeners end to end with real keepalived: the agent (startAgent in this process, the
 * `direct` init adapter, every directory under a temporary root, a network namespace of the
 * test's own) is driven over HTTPS with mutual TLS, as the controller drives it.
 *
 * This host's kernel has no IPVS: a keepalived whose config has a virtual_server exits at once
 * ("IPVS: Can't initialize ipvs"), so the running listener here is a disabled one (Octavia
 * renders only `net_namespace` for it, and keepalived idles), and the virtual_server config is
 * the failure case. The tests run in order and share one agent; each states what it expects to
 * find from the one before.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { AgentHandle } from '../../src/main.js';
import type { Uuid } from '../../src/model/uuid.js';
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

const canRun = tierCanRun('integration: LVS listeners, direct supervision', {
  root: true,
  binaries: ['keepalived', 'ip', 'openssl'],
  python: 'octavia',
  files: [GEN_CERTS, RENDER_SCRIPT],
});

describe.skipIf(!canRun)('LVS listeners: real keepalived under the direct adapter, over mTLS', () => {
  const ns = uniqueName('lvs');
  const L1 = randomUUID() as Uuid; // disabled listener: keepalived idles
  const L2 = randomUUID() as Uuid; // listener with a pool: needs IPVS, which this host lacks
  let root: AgentRoot;
  let agent: AgentHandle;
  let api: AgentClient;
  let paths: Paths;
  let disabledConfig: string;

  const upload = (id: string, body: string) => api.request('PUT', `/1.0/listeners/${root.pki.amphoraId}/${id}/udp_listener`, body);
  const act = (id: string, action: string) => api.request('PUT', `/1.0/loadbalancer/${id}/${action}`);
  const listeners = async () => {
    const res = await api.request('GET', '/1.0/listeners');
    expect(res.status, describeResponse(res)).toBe(200);
    return (jsonOf(res) as { uuid: string }[]).sort((a, b) => a.uuid.localeCompare(b.uuid));
  };
  const liveness = () => sh('/bin/sh', [paths.lvsLivenessCheckScript]);
  const mainPid = async (id: Uuid) => {
    const pid = await readPidFile(paths.lvsPidFile(id));
    if (pid === undefined) throw new Error(`no pid file for ${id}`);
    return pid;
  };
  const expectKeepalivedInNamespace = async (pid: number) => {
    expect(await isRunning(pid)).toBe(true);
    expect(await procComm(pid)).toBe('keepalived');
    expect(await processNetnsInode(pid)).toBe(await netnsInode(ns));
    expect(await processNetnsInode(pid)).not.toBe(await processNetnsInode(process.pid));
    // KEEPALIVED_NICE, which its check scripts inherit (issue 14 item 12); field 19 of /proc/<pid>/stat
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    expect(Number(stat.slice(stat.lastIndexOf(') ') + 2).split(' ')[16])).toBe(-10);
  };

  beforeAll(async () => {
    await addNetns(ns);
    root = await createAgentRoot({
      // a ready timeout past vitest's 60 s: a keepalived that dies must fail its start because the
      // direct adapter saw it exit, not because the wait ran out
      overrides: { amphora_agent: { init_system: 'direct', network_namespace: ns, process_settle_seconds: '0.5', process_ready_timeout: '3600' } },
    });
    paths = createPaths((await loadConfig([root.configFile])).config);
    agent = await startInProcess(root);
    api = await agentClient(root.pki, agent.port);
    disabledConfig = await renderLvs({ listener_id: L1, listener_enabled: false }, ns);
  });

  afterAll(async () => {
    await agent?.close();
    // every keepalived of this file runs inside the test's namespace: deleteNetns stops them by pid
    await deleteNetns(ns);
    await removeDir(root?.dir);
  });

  it('uploads a disabled listener and starts an idle keepalived inside the namespace on reload; OFFLINE', async () => {
    expect(disabledConfig).not.toMatch(/virtual_server/);
    const up = await upload(L1, disabledConfig);
    expect(up.status, describeResponse(up)).toBe(200);
    const res = await act(L1, 'reload');
    expect(res.status, describeResponse(res)).toBe(202);
    expect(jsonOf(res)).toEqual({ message: 'OK', details: `keepalivedlvs listener ${L1} started` });
    const pid = await mainPid(L1);
    await expectKeepalivedInNamespace(pid);
    expect(await keepalivedsWithConfig(ns, paths.lvsConfig(L1))).toEqual([pid]);
    expect(await listeners()).toEqual([{ status: 'OFFLINE', uuid: L1, type: 'UDP' }]);
    expect(await readFile(paths.lvsLogFile(L1), 'utf8')).toMatch(/no configuration to run/);
    const check = await liveness();
    expect(check.code, show(check)).toBe(0);
  });

  it('does not restart keepalived when the same config is reloaded again', async () => {
    const pid = await mainPid(L1);
    expect((await upload(L1, disabledConfig)).status).toBe(200);
    const res = await act(L1, 'reload');
    expect(res.status, describeResponse(res)).toBe(202);
    expect((jsonOf(res) as { details: string }).details).toMatch(/not restarted/);
    expect(await mainPid(L1)).toBe(pid);
    expect(await keepalivedsWithConfig(ns, paths.lvsConfig(L1))).toEqual([pid]);
  });

  it('answers 500 with the log tail naming IPVS when a config with a virtual_server cannot run, and lists it as ERROR', async () => {
    const config = await renderLvs({ listener_id: L2, hm_type: 'UDP-CONNECT', base_path: paths.base }, ns);
    expect(config).toMatch(/virtual_server group ipv4-group/);
    const up = await upload(L2, config);
    expect(up.status, describeResponse(up)).toBe(200);
    const res = await act(L2, 'reload');
    expect(res.status, describeResponse(res)).toBe(500);
    const body = jsonOf(res) as { message: string; details: string };
    // keepalived runs --dont-fork: the direct adapter saw the process it spawned exit
    expect(body.message).toMatch(new RegExp(`^octavia-keepalivedlvs-${L2} exited during start \\(exit code \\d+\\)$`));
    expect(body.details).toMatch(/IPVS: Can't initialize ipvs/);
    await waitFor('the failed keepalived to be gone', async () => (await keepalivedsWithConfig(ns, paths.lvsConfig(L2))).length === 0);
    expect(await listeners()).toEqual(
      [
        { status: 'OFFLINE', uuid: L1, type: 'UDP' },
        { status: 'ERROR', uuid: L2, type: 'UDP' },
      ].sort((a, b) => a.uuid.localeCompare(b.uuid)),
    );
    const check = await liveness();
    expect(check.code, show(check)).not.toBe(0);
    expect(check.stdout).toContain(`LVS listener ${L2}: keepalived is not running`);
    expect(check.stdout).not.toContain(L1);
  });

  it('deletes the listener that never ran: 200, and its files are gone', async () => {
    const res = await api.request('DELETE', `/1.0/listeners/${L2}`);
    expect(res.status, describeResponse(res)).toBe(200);
    for (const f of [paths.lvsConfig(L2), paths.lvsPidFile(L2), paths.lvsVrrpPidFile(L2), paths.lvsCheckPidFile(L2), paths.lvsLogFile(L2)]) {
      expect(existsSync(f), f).toBe(false);
    }
    expect(await listeners()).toEqual([{ status: 'OFFLINE', uuid: L1, type: 'UDP' }]);
    const check = await liveness();
    expect(check.code, show(check)).toBe(0);
  });

  it('shows a crashed keepalived (kill -9) as ERROR, and the LVS liveness check fails', async () => {
    const pid = await mainPid(L1);
    await crash(pid);
    expect(existsSync(paths.lvsPidFile(L1))).toBe(true); // stale, as after a real crash
    expect(await listeners()).toEqual([{ status: 'ERROR', uuid: L1, type: 'UDP' }]);
    const check = await liveness();
    expect(check.code, show(check)).not.toBe(0);
    expect(check.stdout).toContain(`LVS listener ${L1}: keepalived is not running`);
  });

  it('restarts it through PUT …/start: alive again in the namespace, and the check passes', async () => {
    const old = await mainPid(L1);
    const res = await act(L1, 'start');
    expect(res.status, describeResponse(res)).toBe(202);
    expect(jsonOf(res)).toEqual({ message: 'OK', details: `keepalivedlvs listener ${L1} started` });
    const pid = await mainPid(L1);
    expect(pid).not.toBe(old);
    await expectKeepalivedInNamespace(pid);
    expect(await listeners()).toEqual([{ status: 'OFFLINE', uuid: L1, type: 'UDP' }]);
    const check = await liveness();
    expect(check.code, show(check)).toBe(0);
  });

  it('stops it on purpose: the process and its pid file are gone, OFFLINE, and the check no longer looks at it', async () => {
    const pid = await mainPid(L1);
    const res = await act(L1, 'stop');
    expect(res.status, describeResponse(res)).toBe(202);
    expect(jsonOf(res)).toEqual({ message: 'OK', details: `keepalivedlvs listener ${L1} stopped` });
    await waitFor(`pid ${pid} to be gone`, () => isGone(pid), 15_000);
    expect(existsSync(paths.lvsPidFile(L1))).toBe(false);
    expect(await listeners()).toEqual([{ status: 'OFFLINE', uuid: L1, type: 'UDP' }]);
    const check = await liveness();
    expect(check.code, show(check)).toBe(0);
    expect(check.stdout).not.toContain(L1);
    // and back on, for the restart test
    expect((await act(L1, 'start')).status).toBe(202);
    await expectKeepalivedInNamespace(await mainPid(L1));
  });

  it('survives an agent restart: the same keepalived keeps running and is listed as before', async () => {
    const pid = await mainPid(L1);
    await agent.close();
    agent = await startInProcess(root);
    api.port = agent.port;
    await expectKeepalivedInNamespace(pid);
    expect(await listeners()).toEqual([{ status: 'OFFLINE', uuid: L1, type: 'UDP' }]);
    const res = await act(L1, 'reload');
    expect(res.status, describeResponse(res)).toBe(202);
    expect((jsonOf(res) as { details: string }).details).toMatch(/not restarted/);
    expect(await mainPid(L1)).toBe(pid);
    const check = await liveness();
    expect(check.code, show(check)).toBe(0);
  });

  it('deletes a crashed listener: 200, every file and pid file gone, and a second DELETE is 200 too', async () => {
    await crash(await mainPid(L1));
    expect(await listeners()).toEqual([{ status: 'ERROR', uuid: L1, type: 'UDP' }]);
    const res = await api.request('DELETE', `/1.0/listeners/${L1}`);
    expect(res.status, describeResponse(res)).toBe(200);
    expect(jsonOf(res)).toEqual({ message: 'OK' });
    const conf = paths.lvsConfig(L1);
    for (const f of [conf, `${conf}.new`, `${conf}.new-failed`, paths.lvsPidFile(L1), paths.lvsVrrpPidFile(L1), paths.lvsCheckPidFile(L1), paths.lvsLogFile(L1)]) {
      expect(existsSync(f), f).toBe(false);
    }
    expect(await listeners()).toEqual([]);
    const check = await liveness();
    expect(check.code, show(check)).toBe(0);
    expect(check.stdout).not.toContain(L1);
    const again = await api.request('DELETE', `/1.0/listeners/${L1}`);
    expect(again.status, describeResponse(again)).toBe(200);
    expect((await api.request('GET', `/1.0/listeners/${L1}/udp_listener`)).status).toBe(404);
    expect(await keepalivedsWithConfig(ns, conf)).toEqual([]);
  });
});
