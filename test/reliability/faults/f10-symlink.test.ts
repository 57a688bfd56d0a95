/**
 * Fault 10 (a) of issue 14: a symbolic link planted in `<base_path>/lvs` by a non-root user
 * was followed as root: keepalived's console log was opened through it, so its output went into
 * whatever file the link named, and the startup check looked only at base_path and its
 * parents. The real agent (startAgent in this process, the direct adapter, real keepalived, a
 * namespace of the test's own) gets a link at a listener's log name pointing at a "victim" file
 * outside its directories: starting that listener must fail with a 500 naming the link, and the
 * victim must be byte-identical afterwards. Then a directory the agent writes in, made
 * world-writable, is reported at the next start.
 */
import { randomUUID } from 'node:crypto';
import { chmod, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import type { AgentHandle } from '../../../src/main.js';
import type { Uuid } from '../../../src/model/uuid.js';
import { createPaths, type Paths } from '../../../src/system/paths.js';
import { GEN_CERTS, createAgentRoot, removeDir, startInProcess, type AgentRoot } from '../../support/agent-fixture.js';
import { captureLogger } from '../../support/agent-process.js';
import { addNetns, agentClient, deleteNetns, describeResponse, jsonOf, uniqueName, type AgentClient } from '../../support/keepalived-fixture.js';
import { tierCanRun } from '../../support/requirements.js';

const canRun = tierCanRun('reliability f10: planted links', { root: true, binaries: ['keepalived', 'ip', 'openssl'], files: [GEN_CERTS] });
const VICTIM_TEXT = 'root:secret-that-must-not-change\n';

describe.skipIf(!canRun)('f10: the agent never follows a planted link as root', () => {
  const ns = uniqueName('f10s');
  let root: AgentRoot;
  let agent: AgentHandle | undefined;
  let api: AgentClient;
  let paths: Paths;

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

  it('refuses to start a listener whose log name is a link, and the linked file stays as it was', async () => {
    const id = randomUUID() as Uuid;
    const victim = root.at('victim');
    await writeFile(victim, VICTIM_TEXT, { mode: 0o600 });
    const up = await api.request('PUT', `/1.0/listeners/${root.pki.amphoraId}/${id}/udp_listener`, `net_namespace ${ns}\n`);
    expect(up.status, describeResponse(up)).toBe(200);
    await mkdir(paths.lvsDir, { recursive: true });
    await symlink(victim, paths.lvsLogFile(id));
    const res = await api.request('PUT', `/1.0/loadbalancer/${id}/start`);
    expect(res.status, describeResponse(res)).toBe(500);
    expect((jsonOf(res) as { message: string }).message).toMatch(/is a symbolic link: refusing to follow it as root/);
    expect(await readFile(victim, 'utf8')).toBe(VICTIM_TEXT);
    expect((await api.request('DELETE', `/1.0/listeners/${id}`)).status).toBe(200);
    expect(await readFile(victim, 'utf8')).toBe(VICTIM_TEXT);
  });

  it('reports a directory it writes in that others could plant links in, at the next start', async () => {
    await agent?.close();
    agent = undefined;
    await mkdir(paths.lvsDir, { recursive: true });
    await chmod(paths.lvsDir, 0o777);
    const { log, lines } = captureLogger();
    agent = await startInProcess(root, log);
    const report = lines.find((l) => l['msg'] === 'directories the agent writes in as root are unsafe: make them owned by root and not group/other-writable');
    expect(report?.['problems']).toEqual([`${paths.lvsDir} is writable by group or others (mode 777)`]);
    await chmod(paths.lvsDir, 0o755);
  });
});
