/**
 * The metrics listener in the built command (`node dist/amphora-agent.mjs`, prom-client bundled
 * and loaded only when enabled): a loopback plain-HTTP listener answers GET /metrics beside the
 * API, a port already taken is logged and the API still serves, and plain HTTP on a non-loopback
 * address exits 2 with one line naming the file and option.
 */
import { mkdtemp } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, createAgentRoot, freePort, GEN_CERTS, makePki, removeDir, runCli, spawnAgent, type Spawned, type TestPki } from '../support/agent-fixture.js';
import { parsePromText } from '../support/prom-text.js';
import { tierCanRun } from '../support/requirements.js';

const canRun = tierCanRun('cli (metrics)', { binaries: ['openssl', 'bash'], files: [GEN_CERTS, CLI] });
const lines = (text: string): string[] => text.split('\n').filter((l) => l !== '');

function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: 30_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer in time`)));
    req.on('error', reject);
    req.end();
  });
}

describe.skipIf(!canRun)('node dist/amphora-agent.mjs with [prometheus]', () => {
  let work: string | undefined;
  let pki: TestPki;
  const children: Spawned[] = [];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'amphora-metrics-cli-'));
    pki = await makePki(join(work, 'pki'));
  });

  afterAll(async () => {
    await Promise.all(children.map((c) => c.stop('SIGKILL', 5_000)));
    await removeDir(work);
  });

  it('serves GET /metrics over plain HTTP on loopback beside the API', async () => {
    const metricsPort = await freePort();
    const root = await createAgentRoot({ pki, parent: work, port: await freePort(), overrides: { prometheus: { enabled: 'true', bind_host: '127.0.0.1', bind_port: String(metricsPort), tls: 'false' } } });
    const agent = await spawnAgent(root);
    children.push(agent);
    const res = await httpGet(metricsPort, '/metrics');
    expect(res.status).toBe(200);
    const text = parsePromText(res.body);
    expect(text.value('amphora_metrics_source_up', { source: 'daemons' })).toBe(1);
    expect(text.value('amphora_agent_process_open_fds')).toBeGreaterThan(0);
    const exit = await agent.stop('SIGTERM');
    expect(exit, agent.describe()).toEqual({ code: 0, signal: null });
  });

  it('logs the reason and serves the API without metrics when the metrics port is taken', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen({ host: '127.0.0.1', port: 0 }, resolve));
    try {
      const port = (taken.address() as { port: number }).port;
      const root = await createAgentRoot({ pki, parent: work, port: await freePort(), overrides: { prometheus: { enabled: 'true', bind_port: String(port), tls: 'false' } } });
      const agent = await spawnAgent(root);
      children.push(agent);
      // no log_file: the agent logs to its stdout
      await agent.waitFor('the metrics listener error in the log', () => agent.stdout.includes('the metrics listener is not started'));
      expect(agent.stdout).toContain(`the metrics listener ([prometheus] bind_host 127.0.0.1, bind_port ${port}) cannot listen: listen EADDRINUSE`);
      // spawnAgent saw the API accept connections; the agent is still up after the error
      expect(agent.running, agent.describe()).toBe(true);
    } finally {
      taken.close();
    }
  });

  it('exits 2 with one line for plain HTTP on a non-loopback address', async () => {
    const root = await createAgentRoot({ pki, parent: work, overrides: { prometheus: { enabled: 'true', bind_host: '0.0.0.0', tls: 'false' } } });
    const run = await runCli(['--config-file', root.configFile]);
    expect(run.exit, run.describe()).toEqual({ code: 2, signal: null });
    expect(lines(run.stderr), run.describe()).toHaveLength(1);
    expect(run.stderr).toContain(`${root.configFile}:`);
    expect(run.stderr).toContain('[prometheus] tls = false needs a loopback bind_host (127.0.0.1 or ::1), not 0.0.0.0');
    expect(run.stdout).toBe('');
  });
});
