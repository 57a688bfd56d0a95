/**
 * Regression case for issue 14 item 13: a listener's keepalived that the controller started and
 * that then died stayed dead (nothing brought it back). Now the agent's reconcile job restarts it
 * (ADR 0010). The real agent runs in this process (its scheduled jobs included, `direct` init
 * adapter, a temporary root, a namespace of the test's own); a real keepalived is started over
 * mutual TLS as the controller starts it, killed with SIGKILL, and must come back by itself: a
 * new keepalived process for the same config, inside the namespace, named by the pid file, with
 * the listener reported as it was before the kill. On main the wait for it runs out.
 *
 * The listener is a disabled one (keepalived idles): this host's kernel has no IPVS, where a
 * config with a virtual_server makes keepalived exit (test/integration/lvs-direct.test.ts).
 */
import { randomUUID } from 'node:crypto';
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
  keepalivedsWithConfig,
  netnsInode,
  processNetnsInode,
  readPidFile,
  renderLvs,
  uniqueName,
  waitFor,
  type AgentClient,
} from '../../support/keepalived-fixture.js';
import { tierCanRun } from '../../support/requirements.js';

const canRun = tierCanRun('reliability f13: a dead keepalived is restarted by the agent', {
  root: true,
  binaries: ['keepalived', 'ip', 'openssl'],
  python: 'octavia',
  files: [GEN_CERTS, RENDER_SCRIPT],
});

/** Two reconcile runs (every 10 s) confirm the death, then the start: generous for a busy machine. */
const BACK_WITHIN_MS = 120_000;

describe.skipIf(!canRun)('f13: a killed listener keepalived comes back by itself', () => {
  const ns = uniqueName('f13');
  const L1 = randomUUID() as Uuid;
  let root: AgentRoot;
  let agent: AgentHandle;
  let api: AgentClient;
  let paths: Paths;

  const listeners = async () => {
    const res = await api.request('GET', '/1.0/listeners');
    expect(res.status, describeResponse(res)).toBe(200);
    return jsonOf(res) as { uuid: string; status: string }[];
  };

  beforeAll(async () => {
    await addNetns(ns);
    root = await createAgentRoot({ overrides: { amphora_agent: { init_system: 'direct', network_namespace: ns, process_settle_seconds: '0.5', process_ready_timeout: '60' } } });
    paths = createPaths((await loadConfig([root.configFile])).config);
    agent = await startInProcess(root);
    api = await agentClient(root.pki, agent.port);
  });

  afterAll(async () => {
    await agent?.close();
    await deleteNetns(ns);
    await removeDir(root?.dir);
  });

  it('SIGKILL of a started keepalived: a new keepalived for the same config runs in the namespace again', async () => {
    const config = await renderLvs({ listener_id: L1, listener_enabled: false }, ns);
    const up = await api.request('PUT', `/1.0/listeners/${root.pki.amphoraId}/${L1}/udp_listener`, config);
    expect(up.status, describeResponse(up)).toBe(200);
    const started = await api.request('PUT', `/1.0/loadbalancer/${L1}/start`);
    expect(started.status, describeResponse(started)).toBe(202);
    const before = await readPidFile(paths.lvsPidFile(L1));
    expect(before).toBeDefined();
    expect(await listeners()).toEqual([{ status: 'OFFLINE', uuid: L1, type: 'UDP' }]);

    await crash(before!);
    expect(await listeners()).toEqual([{ status: 'ERROR', uuid: L1, type: 'UDP' }]);

    const after = await waitFor(
      'the agent to restart the killed keepalived',
      async () => {
        const pid = await readPidFile(paths.lvsPidFile(L1));
        return pid !== undefined && pid !== before && (await isRunning(pid)) ? pid : undefined;
      },
      BACK_WITHIN_MS,
      async () => `pid file: ${await readPidFile(paths.lvsPidFile(L1))}, keepalived processes for the config: ${JSON.stringify(await keepalivedsWithConfig(ns, paths.lvsConfig(L1)))}`,
    );
    expect(await keepalivedsWithConfig(ns, paths.lvsConfig(L1))).toEqual([after]);
    expect(await processNetnsInode(after)).toBe(await netnsInode(ns));
    expect(await listeners()).toEqual([{ status: 'OFFLINE', uuid: L1, type: 'UDP' }]);
  }, BACK_WITHIN_MS + 60_000);
});
