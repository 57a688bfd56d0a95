/**
 * Issue 14, fault 6: liveness was judged by `/proc/<pid>` existing. A keepalived that died left
 * its pid file; once the kernel gave that pid to another process, `/1.0/listeners` called the
 * listener alive while the VRRP liveness check (which looks at the command name) called it dead,
 * and `DELETE` sent SIGTERM to whatever process held the pid.
 *
 * Here: a real keepalived of a disabled listener (this host has no IPVS; it idles) under the
 * agent with the direct adapter, in a namespace of the test's own. It is killed (-9) and its pid
 * file is made to name a live process that is not it (a `sleep` in the same namespace: a reused
 * pid as the agent meets it). The agent and the check script must both say ERROR/failed, and
 * DELETE must leave that process alone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import type { AgentHandle } from '../../../src/main.js';
import type { Uuid } from '../../../src/model/uuid.js';
import { createPaths, type Paths } from '../../../src/system/paths.js';
import { GEN_CERTS, createAgentRoot, removeDir, startInProcess, type AgentRoot } from '../../support/agent-fixture.js';
import {
  RENDER_SCRIPT,
  addNetns,
  agentClient,
  crash,
  deleteNetns,
  describeResponse,
  isRunning,
  jsonOf,
  readPidFile,
  renderLvs,
  sh,
  show,
  uniqueName,
  type AgentClient,
} from '../../support/keepalived-fixture.js';
import { tierCanRun } from '../../support/requirements.js';

const canRun = tierCanRun('reliability f06: a reused pid is not the daemon', {
  root: true,
  binaries: ['keepalived', 'ip', 'openssl', 'sleep'],
  python: 'octavia',
  files: [GEN_CERTS, RENDER_SCRIPT],
});

describe.skipIf(!canRun)('f06: a pid file naming another process (a reused pid)', () => {
  const ns = uniqueName('f06');
  const L = randomUUID() as Uuid;
  let root: AgentRoot;
  let agent: AgentHandle;
  let api: AgentClient;
  let paths: Paths;
  let stranger: ChildProcess | undefined;

  beforeAll(async () => {
    await addNetns(ns);
    root = await createAgentRoot({
      overrides: { amphora_agent: { init_system: 'direct', network_namespace: ns, process_settle_seconds: '0.3', process_ready_timeout: '60' } },
    });
    paths = createPaths((await loadConfig([root.configFile])).config);
    agent = await startInProcess(root);
    api = await agentClient(root.pki, agent.port);
    const config = await renderLvs({ listener_id: L, listener_enabled: false }, ns);
    expect((await api.request('PUT', `/1.0/listeners/${root.pki.amphoraId}/${L}/udp_listener`, config)).status).toBe(200);
    const res = await api.request('PUT', `/1.0/loadbalancer/${L}/reload`);
    expect(res.status, describeResponse(res)).toBe(202);
  });

  afterAll(async () => {
    stranger?.kill('SIGKILL');
    await agent?.close();
    await deleteNetns(ns);
    await removeDir(root?.dir);
  });

  it('the agent and the VRRP liveness check both call the listener dead, and DELETE signals nobody', async () => {
    const pid = await readPidFile(paths.lvsPidFile(L));
    if (pid === undefined) throw new Error('no keepalived pid file');
    await crash(pid);
    stranger = spawn('ip', ['netns', 'exec', ns, 'sleep', '600'], { stdio: 'ignore' });
    const strangerPid = stranger.pid;
    if (strangerPid === undefined) throw new Error('sleep did not start');
    await writeFile(paths.lvsPidFile(L), `${strangerPid}\n`);

    const listed = await api.request('GET', '/1.0/listeners');
    expect(jsonOf(listed)).toEqual([{ status: 'ERROR', uuid: L, type: 'UDP' }]);
    const check = await sh('/bin/sh', [paths.lvsLivenessCheckScript]);
    expect(check.code, show(check)).not.toBe(0);
    expect(check.stdout).toContain(`LVS listener ${L}: keepalived is not running`);

    const del = await api.request('DELETE', `/1.0/listeners/${L}`);
    expect(del.status, describeResponse(del)).toBe(200);
    expect(await isRunning(strangerPid)).toBe(true);
    expect(stranger.signalCode).toBeNull();
  });
});
