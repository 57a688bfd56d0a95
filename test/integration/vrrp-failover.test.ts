/**
 * A real VRRP pair. Two network namespaces of the test's own, A and B, joined by a veth pair
 * named eth1 on both sides (created inside the namespaces: nothing appears on the host), on a
 * random 198.18.x.0/24 (RFC 2544 benchmark range). In A the real agent (direct init,
 * network_namespace A) runs the VRRP keepalived from a config rendered by Octavia's templater,
 * with the check script at <base_path>/vrrp/check_script.sh and interval 1, fall 2, rise 2,
 * plus one idle LVS listener (a disabled listener's config). B runs a plain keepalived BACKUP
 * started by the test, without a check script.
 *
 * The check script's runs are counted by one extra, always-passing script in the check_scripts
 * directory (the directory the agent's check_script.sh runs everything from), so that "A did
 * not fail" is asserted over a known number of check runs instead of after a fixed sleep.
 * The tests run in order and share the pair.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { AgentHandle } from '../../src/main.js';
import type { Uuid } from '../../src/model/uuid.js';
import { createPaths, type Paths } from '../../src/system/paths.js';
import { GEN_CERTS, createAgentRoot, removeDir, startInProcess, type AgentRoot } from '../support/agent-fixture.js';
import {
  KEEPALIVED,
  RENDER_SCRIPT,
  addNetns,
  addVethPair,
  addressesIn,
  agentClient,
  crash,
  deleteNetns,
  describeResponse,
  isRunning,
  jsonOf,
  must,
  readPidFile,
  renderLvs,
  renderVrrp,
  sh,
  show,
  spawnDetachedProcess,
  uniqueName,
  waitFor,
  withoutCheckScript,
  type AgentClient,
  type Detached,
} from '../support/keepalived-fixture.js';
import { tierCanRun } from '../support/requirements.js';

const canRun = tierCanRun('integration: VRRP failover between two namespaces', {
  root: true,
  binaries: ['keepalived', 'ip', 'openssl'],
  python: 'octavia',
  files: [GEN_CERTS, RENDER_SCRIPT],
});

const INTERVAL = 1;
const FALL = 2;
const RISE = 2;
const ADVERT = 1;
/** Generous: a 2-core machine running other test files at the same time. */
const MARGIN_S = 10;

describe.skipIf(!canRun)('VRRP failover driven by the LVS liveness check', () => {
  const nsA = uniqueName('va');
  const nsB = uniqueName('vb');
  const net = `198.18.${randomInt(0, 256)}`;
  const ipA = `${net}.1`;
  const ipB = `${net}.2`;
  const vip = `${net}.10`;
  const L = randomUUID() as Uuid;
  let root: AgentRoot;
  let agent: AgentHandle;
  let api: AgentClient;
  let paths: Paths;
  let peer: Detached | undefined;
  let peerLog: string;
  let probeFile: string;

  const act = (id: string, action: string) => api.request('PUT', `/1.0/loadbalancer/${id}/${action}`);
  const hasVip = async (ns: string) => (await addressesIn(ns)).includes(vip);
  const vrrpLog = () => readFile(paths.vrrpLogFile, 'utf8').catch(() => '');
  const probeRuns = async () => (await readFile(probeFile, 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
  const state = async () =>
    `A ${nsA}: ${(await addressesIn(nsA)).join(' ')}\nB ${nsB}: ${(await addressesIn(nsB)).join(' ')}\n--- A's VRRP log (tail)\n${(await vrrpLog()).split('\n').slice(-25).join('\n')}\n--- B's log (tail)\n${(await readFile(peerLog, 'utf8').catch(() => '')).split('\n').slice(-15).join('\n')}`;
  const listenerPid = async () => {
    const pid = await readPidFile(paths.lvsPidFile(L));
    if (pid === undefined) throw new Error('the listener has no pid file');
    return pid;
  };

  beforeAll(async () => {
    await addNetns(nsA);
    await addNetns(nsB);
    await addVethPair(nsA, nsB, 'eth1');
    await must('ip', ['-n', nsA, 'addr', 'add', `${ipA}/24`, 'dev', 'eth1']);
    await must('ip', ['-n', nsB, 'addr', 'add', `${ipB}/24`, 'dev', 'eth1']);
    root = await createAgentRoot({
      overrides: {
        amphora_agent: { init_system: 'direct', network_namespace: nsA, process_settle_seconds: '0.5' },
        controller_worker: { loadbalancer_topology: 'ACTIVE_STANDBY' },
      },
    });
    paths = createPaths((await loadConfig([root.configFile])).config);
    agent = await startInProcess(root);
    api = await agentClient(root.pki, agent.port);
    peerLog = root.at('peer-b/keepalived.log');
    probeFile = root.at('probe-runs');
  });

  afterAll(async () => {
    await agent?.close();
    await peer?.stop();
    // A's keepalived (VRRP and LVS, started by the agent) and B's all run inside the test's
    // namespaces; deleteNetns stops what is left there by pid, then removes the namespaces.
    await deleteNetns(nsA);
    await deleteNetns(nsB);
    await removeDir(root?.dir);
  });

  it('A (agent, MASTER) holds the VIP; B (plain keepalived, BACKUP) does not', async () => {
    // one idle LVS listener, started through the API
    const lvs = await renderLvs({ listener_id: L, listener_enabled: false }, nsA);
    expect((await api.request('PUT', `/1.0/listeners/${root.pki.amphoraId}/${L}/udp_listener`, lvs)).status).toBe(200);
    const started = await act(L, 'reload');
    expect(started.status, describeResponse(started)).toBe(202);

    const common = { vip, cidr: `${net}.0/24`, gw: `${net}.254`, check_interval: INTERVAL, fail_count: FALL, success_count: RISE, advert_int: ADVERT };
    const configA = await renderVrrp({ ...common, vrrp_ip: ipA, peer_ip: ipB, role: 'MASTER', priority: 100, base_path: paths.base });
    expect(configA).toContain(`script ${paths.vrrpCheckScript}\n    interval ${INTERVAL}\n    fall ${FALL}\n    rise ${RISE}`);
    const up = await api.request('PUT', '/1.0/vrrp/upload', configA);
    expect(up.status, describeResponse(up)).toBe(200);

    // count the check script's runs (see the file comment)
    await writeFile(join(paths.vrrpCheckScriptsDir, 'zz-aat-probe.sh'), `#!/bin/sh\necho run >> ${probeFile}\nexit 0\n`, { mode: 0o755 });

    const start = await api.request('PUT', '/1.0/vrrp/start');
    expect(start.status, describeResponse(start)).toBe(202);
    expect(jsonOf(start)).toEqual({ message: 'OK', details: 'keepalived started' });

    const configB = withoutCheckScript(await renderVrrp({ ...common, vrrp_ip: ipB, peer_ip: ipA, role: 'BACKUP', priority: 90 }));
    await mkdir(root.at('peer-b'), { recursive: true });
    const confB = root.at('peer-b/keepalived.conf');
    await writeFile(confB, configB);
    const b = (name: string) => root.at(`peer-b/${name}`);
    peer = await spawnDetachedProcess(
      'ip',
      ['netns', 'exec', nsB, KEEPALIVED, '--dont-fork', '--log-console', '--vrrp', '-f', confB, '-p', b('k.pid'), '-r', b('k.vrrp.pid'), '-c', b('k.check.pid')],
      peerLog,
    );

    await waitFor('A to hold the VIP', async () => (await hasVip(nsA)) && !(await hasVip(nsB)), 60_000, state);
    expect(await vrrpLog()).toMatch(/Entering MASTER STATE/);
    await waitFor('B to be BACKUP', async () => /Entering BACKUP STATE/.test(await readFile(peerLog, 'utf8')), 30_000, state);
    expect(await hasVip(nsB)).toBe(false);
    const check = await sh('/bin/sh', [paths.vrrpCheckScript]);
    expect(check.code, show(check)).toBe(0);
  });

  it('stopping the listener on purpose does not make A fail', async () => {
    const mark = (await vrrpLog()).length;
    const res = await act(L, 'stop');
    expect(res.status, describeResponse(res)).toBe(202);
    const liveness = await sh('/bin/sh', [paths.lvsLivenessCheckScript]);
    expect(liveness.code, show(liveness)).toBe(0);
    // keepalived runs the check script FALL + 2 more times, each of them after the stop
    const runs = await probeRuns();
    await waitFor(`${FALL + 2} more check runs`, async () => (await probeRuns()) >= runs + FALL + 2, 60_000, state);
    const since = (await vrrpLog()).slice(mark);
    expect(since).not.toMatch(/Entering FAULT STATE|check_script\) failed/);
    expect(await hasVip(nsA)).toBe(true);
    expect(await hasVip(nsB)).toBe(false);
    // back on for the crash test
    const again = await act(L, 'start');
    expect(again.status, describeResponse(again)).toBe(202);
  });

  it(`kill -9 of the listener's keepalived puts A in FAULT and moves the VIP to B within fall×interval + ${MARGIN_S} s`, async () => {
    const mark = (await vrrpLog()).length;
    const pid = await listenerPid();
    const t0 = performance.now();
    await crash(pid);
    await waitFor('B to take the VIP', () => hasVip(nsB), 60_000, state);
    const seconds = (performance.now() - t0) / 1000;
    process.stdout.write(`VRRP failover after kill -9 of the LVS keepalived: VIP in B after ${seconds.toFixed(2)} s (interval ${INTERVAL} s, fall ${FALL}, advert ${ADVERT} s)\n`);
    expect(seconds).toBeLessThan(FALL * INTERVAL + MARGIN_S);
    await waitFor('A to enter FAULT', async () => /Entering FAULT STATE/.test((await vrrpLog()).slice(mark)), 30_000, state);
    expect(await hasVip(nsA)).toBe(false);
    const listed = await api.request('GET', '/1.0/listeners');
    expect(jsonOf(listed)).toEqual([{ status: 'ERROR', uuid: L, type: 'UDP' }]);
    const check = await sh('/bin/sh', [paths.vrrpCheckScript]);
    expect(check.code, show(check)).not.toBe(0);
  });

  it('restarting the listener through the API makes the check pass again and A leave FAULT', async () => {
    const mark = (await vrrpLog()).length;
    const res = await act(L, 'start');
    expect(res.status, describeResponse(res)).toBe(202);
    expect(await isRunning(await listenerPid())).toBe(true);
    const check = await sh('/bin/sh', [paths.vrrpCheckScript]);
    expect(check.code, show(check)).toBe(0);
    await waitFor('A to leave FAULT', async () => /Entering (BACKUP|MASTER) STATE/.test((await vrrpLog()).slice(mark)), 30_000, state);
    // Octavia renders `state MASTER` with `nopreempt` for A, and keepalived clears nopreempt for
    // an initial MASTER ("nopreempt will not work with initial state MASTER - clearing"): with
    // its higher priority A may take the VIP back. Report where it ends; require exactly one holder.
    const back = await waitFor('the VIP to return to A', () => hasVip(nsA), 3 * ADVERT * 1000 + 10_000).catch(() => false);
    const holder = await waitFor('exactly one VIP holder', async () => ((await hasVip(nsA)) !== (await hasVip(nsB)) ? ((await hasVip(nsA)) ? 'A' : 'B') : undefined), 30_000, state);
    process.stdout.write(`after the listener restart A left FAULT; the VIP is in ${holder}${back ? ' (A preempted)' : ' (stayed in B)'}\n`);
    const listed = await api.request('GET', '/1.0/listeners');
    expect(jsonOf(listed)).toEqual([{ status: 'OFFLINE', uuid: L, type: 'UDP' }]);
  });

  it('ADR 0010: a killed listener keepalived left to the agent: B takes the VIP first, then the agent restarts it and A leaves FAULT', async () => {
    const mark = (await vrrpLog()).length;
    const old = await listenerPid();
    const t0 = performance.now();
    await crash(old);
    await waitFor('B to take the VIP', () => hasVip(nsB), 60_000, state);
    const takeover = (performance.now() - t0) / 1000;
    // the agent waits the VRRP failover time read from A's config, and a margin, before its restart
    const restarted = await waitFor(
      'the agent to restart the killed keepalived',
      async () => {
        const pid = await readPidFile(paths.lvsPidFile(L));
        return pid !== undefined && pid !== old && (await isRunning(pid)) ? pid : undefined;
      },
      120_000,
      state,
    );
    const restart = (performance.now() - t0) / 1000;
    expect(restart).toBeGreaterThan(takeover);
    await waitFor('A to leave FAULT', async () => /Entering (BACKUP|MASTER) STATE/.test((await vrrpLog()).slice(mark)), 30_000, state);
    const holder = await waitFor('exactly one VIP holder', async () => ((await hasVip(nsA)) !== (await hasVip(nsB)) ? ((await hasVip(nsA)) ? 'A' : 'B') : undefined), 30_000, state);
    process.stdout.write(`ADR 0010, agent restart in ACTIVE_STANDBY: VIP in B ${takeover.toFixed(2)} s after kill -9, keepalived restarted by the agent (pid ${restarted}) ${restart.toFixed(2)} s after it; the VIP is then in ${holder}\n`);
    expect(jsonOf(await api.request('GET', '/1.0/listeners'))).toEqual([{ status: 'OFFLINE', uuid: L, type: 'UDP' }]);
  }, 240_000);
});
