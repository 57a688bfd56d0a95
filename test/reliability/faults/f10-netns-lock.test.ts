/**
 * Fault 10 (c) of issue 14: the namespace setup script took its flock on a fixed
 * `/run/amphora-netns-<namespace>.lock`, outside every directory the configuration names (and
 * opened it with `>`, truncating whatever was there). The real agent (startAgent in this
 * process, a temporary root, a namespace of the test's own that the agent creates through its
 * setup script on the first upload) must keep that lock under base_path, next to the script,
 * and create nothing in /run but the namespace itself.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import type { AgentHandle } from '../../../src/main.js';
import { createPaths, type Paths } from '../../../src/system/paths.js';
import { GEN_CERTS, createAgentRoot, removeDir, startInProcess, type AgentRoot } from '../../support/agent-fixture.js';
import { agentClient, deleteNetns, describeResponse, netnsExists, uniqueName, type AgentClient } from '../../support/keepalived-fixture.js';
import { tierCanRun } from '../../support/requirements.js';

const canRun = tierCanRun('reliability f10: netns lock file', { root: true, binaries: ['keepalived', 'ip', 'flock', 'openssl'], files: [GEN_CERTS] });

describe.skipIf(!canRun)('f10: the namespace setup lock lives under base_path', () => {
  const ns = uniqueName('f10l');
  let root: AgentRoot;
  let agent: AgentHandle;
  let api: AgentClient;
  let paths: Paths;

  beforeAll(async () => {
    root = await createAgentRoot({ overrides: { amphora_agent: { init_system: 'direct', network_namespace: ns } } });
    paths = createPaths((await loadConfig([root.configFile])).config);
    agent = await startInProcess(root);
    api = await agentClient(root.pki, agent.port);
  });

  afterAll(async () => {
    await agent?.close();
    await deleteNetns(ns);
    await removeDir(root?.dir);
  });

  it('creates the namespace through its script with the lock beside it, and nothing in /run', async () => {
    expect(await netnsExists(ns)).toBe(false);
    const res = await api.request('PUT', `/1.0/listeners/${root.pki.amphoraId}/${randomUUID()}/udp_listener`, `net_namespace ${ns}\n`);
    expect(res.status, describeResponse(res)).toBe(200);
    expect(await netnsExists(ns)).toBe(true);
    expect(paths.netnsLockFile.startsWith(`${paths.base}/`)).toBe(true);
    expect(existsSync(paths.netnsLockFile)).toBe(true);
    expect(await readFile(paths.netnsSetupScript, 'utf8')).toContain(`exec 9>>${paths.netnsLockFile}\n`);
    expect(existsSync(`/run/amphora-netns-${ns}.lock`)).toBe(false);
  });
});
