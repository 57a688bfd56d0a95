/**
 * Issue 14, fault 5: under `init_system = direct`, keepalived's and haproxy's output went through
 * a pipe the agent held; once the agent restarted, the reload acknowledgement never reached the
 * daemon's log, and every reload of a changed config answered 500. The daemon now writes its log
 * through a descriptor of its own (system/exec.ts spawnDetached).
 *
 * Here: the installed agent (`node dist/amphora-agent.mjs`, a process of its own) starts a real
 * keepalived (a disabled listener: this host has no IPVS, it idles) in a namespace of the test's,
 * is killed (-9, as a crash or an upgrade would end it) and started again; then a changed config
 * is uploaded and reloaded: 202 "reloaded", the same keepalived, and its "Reloading" line is in
 * the log.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import type { Uuid } from '../../../src/model/uuid.js';
import { createPaths, type Paths } from '../../../src/system/paths.js';
import { CLI, GEN_CERTS, createAgentRoot, freePort, removeDir, spawnAgent, type AgentRoot, type Spawned } from '../../support/agent-fixture.js';
import {
  RENDER_SCRIPT,
  addNetns,
  agentClient,
  deleteNetns,
  describeResponse,
  isRunning,
  jsonOf,
  readPidFile,
  renderLvs,
  uniqueName,
  type AgentClient,
} from '../../support/keepalived-fixture.js';
import { tierCanRun } from '../../support/requirements.js';

const canRun = tierCanRun('reliability f05: reload after an agent restart (direct)', {
  root: true,
  binaries: ['keepalived', 'ip', 'openssl'],
  python: 'octavia',
  files: [GEN_CERTS, RENDER_SCRIPT, CLI],
});

describe.skipIf(!canRun)('f05: a changed config reloads after the agent restarted (init_system = direct)', () => {
  const ns = uniqueName('f05');
  const L = randomUUID() as Uuid;
  let root: AgentRoot;
  let agent: Spawned | undefined;
  let api: AgentClient;
  let paths: Paths;
  const upload = (text: string) => api.request('PUT', `/1.0/listeners/${root.pki.amphoraId}/${L}/udp_listener`, text);
  const reload = () => api.request('PUT', `/1.0/loadbalancer/${L}/reload`);

  beforeAll(async () => {
    await addNetns(ns);
    root = await createAgentRoot({
      port: await freePort(),
      overrides: { amphora_agent: { init_system: 'direct', network_namespace: ns, process_settle_seconds: '0.3', process_ready_timeout: '60' } },
    });
    paths = createPaths((await loadConfig([root.configFile])).config);
    agent = await spawnAgent(root);
    api = await agentClient(root.pki, root.port);
  });

  afterAll(async () => {
    await agent?.stop();
    await deleteNetns(ns);
    await removeDir(root?.dir);
  });

  it('answers 202 reloaded, and keepalived logged the reload', async () => {
    const first = await renderLvs({ listener_id: L, listener_enabled: false }, ns);
    expect((await upload(first)).status).toBe(200);
    const started = await reload();
    expect(started.status, describeResponse(started)).toBe(202);
    const pid = await readPidFile(paths.lvsPidFile(L));
    if (pid === undefined) throw new Error('no keepalived pid file');

    agent?.child.kill('SIGKILL');
    await agent?.exited;
    agent = await spawnAgent(root);
    expect(await isRunning(pid)).toBe(true);

    const before = (await readFile(paths.lvsLogFile(L), 'utf8')).length;
    // a changed config: the same disabled listener, one comment more
    expect((await upload(`${first}\n# changed after the agent restarted\n`)).status).toBe(200);
    const res = await reload();
    expect(res.status, describeResponse(res)).toBe(202);
    expect(jsonOf(res)).toEqual({ message: 'OK', details: `keepalivedlvs listener ${L} reloaded` });
    expect(await readPidFile(paths.lvsPidFile(L))).toBe(pid);
    expect((await readFile(paths.lvsLogFile(L), 'utf8')).slice(before)).toMatch(/Reloading/);
  });
});
