/**
 * Fault 7 of issue 14: only the first `net_namespace` line of an uploaded keepalived config was
 * checked. keepalived 2.2.7 ignores one inside a block and takes the first top-level one, and
 * its `--config-test` checks nothing when the namespace it names is missing; so a config whose
 * first `net_namespace` (inside a block) names the amphora namespace and whose top-level one
 * names another passed, and keepalived then ran in that other namespace.
 *
 * First the real binary shows the behaviour the fix rests on (run in the test's namespaces, a
 * config without virtual servers, so no IPVS is needed): while the other namespace does not
 * exist, `--config-test` accepts the config (and a broken one too: it checks nothing then);
 * once that namespace exists, keepalived started on the config lands in it. Then the real agent (startAgent in this process, the
 * direct adapter, a temporary root, the test's namespace as its amphora namespace) refuses both
 * uploads, and the features that hide a namespace from a look at the text, with 400 before
 * writing anything, while the controller's own form still uploads and runs in the namespace.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import type { AgentHandle } from '../../../src/main.js';
import { createPaths, type Paths } from '../../../src/system/paths.js';
import { GEN_CERTS, createAgentRoot, removeDir, startInProcess, type AgentRoot } from '../../support/agent-fixture.js';
import {
  KEEPALIVED,
  addNetns,
  agentClient,
  deleteNetns,
  describeResponse,
  jsonOf,
  keepalivedsWithConfig,
  netnsInode,
  processNetnsInode,
  readPidFile,
  sh,
  show,
  uniqueName,
  waitFor,
  type AgentClient,
} from '../../support/keepalived-fixture.js';
import { spawnDetachedProcess } from '../../support/processes.js';
import { tierCanRun } from '../../support/requirements.js';

const canRun = tierCanRun('reliability f07: net_namespace of uploads', { root: true, binaries: ['keepalived', 'ip', 'openssl'], files: [GEN_CERTS] });

describe.skipIf(!canRun)('f07: an uploaded keepalived config cannot run keepalived outside the amphora namespace', () => {
  const ns = uniqueName('f07');
  const other = uniqueName('f07o');
  const missing = uniqueName('f07m');
  let root: AgentRoot;
  let agent: AgentHandle;
  let api: AgentClient;
  let paths: Paths;

  /** The first net_namespace sits in a block (keepalived ignores it), the top-level one names `elsewhere`. */
  const smuggled = (elsewhere: string) => `virtual_server_group decoy {\n    net_namespace ${ns}\n}\nnet_namespace ${elsewhere}\n`;
  const brokenIn = (elsewhere: string) => `net_namespace ${elsewhere}\nvirtual_server 203.0.113.5 53 {\n    protocol UDP\n    no_such_keyword 1\n}\ngarbage {\n`;
  const upload = (id: string, body: string) => api.request('PUT', `/1.0/listeners/${root.pki.amphoraId}/${id}/udp_listener`, body);

  beforeAll(async () => {
    await addNetns(ns);
    root = await createAgentRoot({ overrides: { amphora_agent: { init_system: 'direct', network_namespace: ns, process_settle_seconds: '0.5', process_ready_timeout: '60' } } });
    paths = createPaths((await loadConfig([root.configFile])).config);
    agent = await startInProcess(root);
    api = await agentClient(root.pki, agent.port);
  });

  afterAll(async () => {
    await agent?.close();
    await deleteNetns(other);
    await deleteNetns(ns);
    await removeDir(root?.dir);
  });

  it('real keepalived: --config-test accepts the smuggled config while the other namespace is missing; started once it exists, keepalived runs there', async () => {
    const file = root.at('smuggled.conf');
    await writeFile(file, smuggled(other));
    const test = await sh('ip', ['netns', 'exec', ns, KEEPALIVED, '--config-test', '-f', file]);
    expect(test.code, show(test)).toBe(0);
    await addNetns(other);
    const run = root.at('smuggled-run');
    const daemon = await spawnDetachedProcess('ip', ['netns', 'exec', ns, KEEPALIVED, '--dont-fork', '--log-console', '-f', file, '-p', `${run}.pid`, '-r', `${run}-vrrp.pid`, '-c', `${run}-check.pid`], `${run}.log`);
    try {
      // keepalived enters the namespace its config names right after it starts
      const target = await netnsInode(other);
      await waitFor('keepalived to enter the other namespace', async () => (await processNetnsInode(daemon.pid)) === target, 30_000);
      expect(await processNetnsInode(daemon.pid)).not.toBe(await netnsInode(ns));
    } finally {
      await daemon.stop();
    }
  });

  it('real keepalived: --config-test accepts a broken config whose namespace is missing', async () => {
    const file = root.at('missing.conf');
    await writeFile(file, brokenIn(missing));
    const test = await sh('ip', ['netns', 'exec', ns, KEEPALIVED, '--config-test', '-f', file]);
    expect(test.code, show(test)).toBe(0);
  });

  it('the agent refuses both with 400 and writes nothing', async () => {
    // a namespace missing now, which anyone may create before keepalived starts
    for (const [name, body] of [
      ['smuggled', smuggled(missing)],
      ['broken, in a missing namespace', brokenIn(missing)],
    ] as const) {
      const id = randomUUID();
      const res = await upload(id, body);
      expect(res.status, `${name}: ${describeResponse(res)}`).toBe(400);
      expect((jsonOf(res) as { details: string }).details).toMatch(/^line \d: net_namespace must name /);
      expect(existsSync(paths.lvsConfig(id as never))).toBe(false);
      expect((await api.request('PUT', `/1.0/loadbalancer/${id}/start`)).status).toBe(404);
    }
  });

  it('the agent refuses what hides a namespace from a look at the text: include, $ definitions, @ and ~SEQ lines, net_namespace_ipvs', async () => {
    const included = root.at('included.conf');
    await writeFile(included, `net_namespace ${other}\n`);
    for (const body of [`include ${included}\n`, `$NS=${other}\nnet_namespace $NS\n`, `@^nothing net_namespace ${other}\n`, `~SEQ(i,1,1) net_namespace ${other}\n`, `net_namespace ${ns}\nnet_namespace_ipvs\n`]) {
      const res = await upload(randomUUID(), body);
      expect(res.status, `${body}: ${describeResponse(res)}`).toBe(400);
    }
  });

  it('the controller\'s own form (one top-level net_namespace naming the namespace) uploads and runs inside it', async () => {
    const id = randomUUID();
    const up = await upload(id, `# disabled listener: keepalived idles\nnet_namespace ${ns}\n`);
    expect(up.status, describeResponse(up)).toBe(200);
    const res = await api.request('PUT', `/1.0/loadbalancer/${id}/start`);
    expect(res.status, describeResponse(res)).toBe(202);
    const pid = await readPidFile(paths.lvsPidFile(id as never));
    expect(pid).toBeDefined();
    expect(await processNetnsInode(pid as number)).toBe(await netnsInode(ns));
    expect(await keepalivedsWithConfig(ns, paths.lvsConfig(id as never))).toEqual([pid]);
    expect((await api.request('DELETE', `/1.0/listeners/${id}`)).status).toBe(200);
  });
});
