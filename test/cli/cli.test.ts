/**
 * The built command line, `node dist/amphora-agent.mjs` (package.json's bin), as an operator or an init system runs it: flags,
 * exit codes, one-line configuration errors, serving over mutual TLS, stopping on SIGTERM, and
 * the development mode whose printed curl command must work when pasted.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_PORT } from '../../src/dev/dev-mode.js';
import {
  CLI,
  createAgentRoot,
  freePort,
  GEN_CERTS,
  makePki,
  portIsFree,
  REPO_ROOT,
  removeDir,
  runCli,
  spawnAgent,
  spawnCli,
  type AgentRoot,
  type Spawned,
  type TestPki,
} from '../support/agent-fixture.js';
import { mtlsRequest } from '../support/mtls-client.js';
import { tierCanRun } from '../support/requirements.js';

const canRun = tierCanRun('cli', { binaries: ['openssl', 'bash'], files: [GEN_CERTS, CLI] });

/** Dev mode listens on a fixed port; another process on it is this machine's state, not a failure of the agent. */
async function devModeCanRun(): Promise<boolean> {
  if (!tierCanRun('cli dev mode', { binaries: ['curl', 'openssl', 'sh'], files: [CLI] })) return false;
  if (await portIsFree(DEV_PORT)) return true;
  const reason = `cli dev mode: needs 127.0.0.1:${DEV_PORT} free (development mode listens there)`;
  if (process.env['CI'] === 'true') throw new Error(reason);
  process.stderr.write(`SKIP ${reason}\n`);
  return false;
}
const devCanRun = canRun && (await devModeCanRun());

const lines = (text: string): string[] => text.split('\n').filter((l) => l !== '');

describe.skipIf(!canRun)('node dist/amphora-agent.mjs', () => {
  let work: string | undefined;
  let pki: TestPki;
  const children: Spawned[] = [];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'amphora-cli-'));
    pki = await makePki(join(work, 'pki'));
  });

  afterAll(async () => {
    await Promise.all(children.map((c) => c.stop('SIGKILL', 5_000)));
    await removeDir(work);
  });

  it('--version prints the package version', async () => {
    const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    const run = await runCli(['--version']);
    expect(run.exit, run.describe()).toEqual({ code: 0, signal: null });
    expect(run.stdout).toBe(`amphora-agent ${pkg.version}\n`);
    expect(run.stderr).toBe('');
  });

  it.each([['--help'], ['-h']])('%s prints the usage', async (flag) => {
    const run = await runCli([flag]);
    expect(run.exit, run.describe()).toEqual({ code: 0, signal: null });
    expect(run.stdout).toMatch(/^Usage: amphora-agent --config-file PATH/);
    expect(run.stdout).toContain('--version');
    expect(run.stderr).toBe('');
  });

  it('exits 2 on an unknown flag, naming it', async () => {
    const run = await runCli(['--no-such-flag']);
    expect(run.exit, run.describe()).toEqual({ code: 2, signal: null });
    expect(run.stderr).toContain('--no-such-flag');
    expect(run.stderr).toContain('Usage:');
    expect(run.stdout).toBe('');
  });

  it('exits 2 with one line naming the file, section, option and expected form for an invalid value', async () => {
    const root = await createAgentRoot({ pki, parent: work, overrides: { haproxy_amphora: { bind_port: '99999' } } });
    const run = await runCli(['--config-file', root.configFile]);
    expect(run.exit, run.describe()).toEqual({ code: 2, signal: null });
    expect(lines(run.stderr), run.describe()).toHaveLength(1);
    const line = lines(run.stderr)[0] ?? '';
    expect(line).toContain(root.configFile);
    expect(line).toContain('[haproxy_amphora]');
    expect(line).toContain('bind_port');
    expect(line).toContain('99999');
    expect(line).toContain('a port number from 0 to 65535');
    expect(run.stdout).toBe('');
  });

  it('exits 2 with one line naming a configuration file that does not exist', async () => {
    const missing = join(work ?? tmpdir(), 'no-such-dir', 'amphora-agent.conf');
    const run = await runCli(['--config-file', missing]);
    expect(run.exit, run.describe()).toEqual({ code: 2, signal: null });
    expect(lines(run.stderr), run.describe()).toHaveLength(1);
    expect(run.stderr).toContain(missing);
    expect(run.stdout).toBe('');
  });

  it('exits 2 with one line naming agent_server_cert when the certificate file is missing', async () => {
    const missing = join(work ?? tmpdir(), 'no-such-server.pem');
    const broken = await createAgentRoot({ pki, parent: work, overrides: { amphora_agent: { agent_server_cert: missing } } });
    const run = await runCli(['--config-file', broken.configFile]);
    expect(run.exit, run.describe()).toEqual({ code: 2, signal: null });
    expect(lines(run.stderr), run.describe()).toHaveLength(1);
    expect(run.stderr).toContain('agent_server_cert');
    expect(run.stderr).toContain(missing);
  });

  it.each([
    ['interfaces up without --config-file', ['interfaces', 'up'], 'interfaces up needs --config-file'],
    ['an unknown command', ['--config-file', '/nonexistent.conf', 'interfaces', 'down'], 'unknown command: interfaces down'],
  ])('exits 2 on %s, naming it', async (_what, args, message) => {
    const run = await runCli(args);
    expect(run.exit, run.describe()).toEqual({ code: 2, signal: null });
    expect(run.stderr).toContain(`amphora-agent: ${message}\n`);
    expect(run.stdout).toBe('');
  });

  it('interfaces up: exits 1 with one line when the namespace does not exist (it never creates it)', async () => {
    const root = await createAgentRoot({ pki, parent: work, overrides: { amphora_agent: { network_namespace: 'aat-no-such-ns', netns_run_dir: join(work ?? tmpdir(), 'netns') } } });
    const run = await runCli(['--config-file', root.configFile, 'interfaces', 'up']);
    expect(run.exit, run.describe()).toEqual({ code: 1, signal: null });
    expect(lines(run.stderr), run.describe()).toEqual([
      `amphora-agent: interfaces up: network namespace aat-no-such-ns does not exist: ${root.at('var/lib/octavia/amphora-netns.sh')} creates it and then brings the interfaces up`,
    ]);
  });

  describe('with a valid configuration', () => {
    let root: AgentRoot;
    let agent: Spawned;

    beforeAll(async () => {
      root = await createAgentRoot({ pki, parent: work, port: await freePort() });
      agent = await spawnAgent(root);
      children.push(agent);
    });

    it('answers GET // with {"api_version":"1.0"} over mutual TLS', async () => {
      const res = await mtlsRequest(
        { port: root.port, ca: await readFile(pki.serverCaPem, 'utf8'), servername: pki.amphoraId, clientPem: await readFile(pki.clientPem, 'utf8') },
        { path: '//' },
      );
      expect(res.status).toBe(200);
      expect(res.body).toBe('{"api_version":"1.0"}');
    });

    it('starts its scheduled jobs (node-cron, inside the bundle) once it listens', async () => {
      const started = await agent.waitFor('the jobs to start', () => lines(agent.stdout).find((l) => l.includes('scheduled jobs started')));
      const names = (JSON.parse(started) as { jobs: { name: string }[] }).jobs.map((j) => j.name);
      expect(names).toEqual(['rotate-daemon-logs', 'reconcile-daemons']);
    });

    it('stops on SIGTERM with exit code 0 and frees the port', async () => {
      const exit = await agent.stop('SIGTERM');
      expect(exit, agent.describe()).toEqual({ code: 0, signal: null });
      expect(agent.stderr).toBe('');
      expect(await portIsFree(root.port)).toBe(true);
    });
  });

  describe.skipIf(!devCanRun)('development mode (no --config-file)', () => {
    let cwd: string;
    let agent: Spawned;

    beforeAll(async () => {
      cwd = await mkdtemp(join(work ?? tmpdir(), 'dev-cwd-'));
      agent = spawnCli([], { cwd });
      children.push(agent);
    });

    it('prints a curl command that, pasted into a shell, returns the info JSON', async () => {
      const command = await agent.waitFor('the printed curl command', () => /^\s*(curl .+)$/m.exec(agent.stdout)?.[1]);
      expect(agent.stdout).toContain(`https://127.0.0.1:${DEV_PORT}`);
      // The point is that the printed text works when pasted, so a shell runs it here, as printed.
      const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolveRun, reject) =>
        execFile('sh', ['-c', command], { cwd, timeout: 60_000, encoding: 'utf8' }, (err, out, errOut) =>
          err ? reject(new Error(`${command}\n${err.message}\n${errOut}`)) : resolveRun({ stdout: out, stderr: errOut }),
        ),
      );
      let info: Record<string, unknown>;
      try {
        info = JSON.parse(stdout) as Record<string, unknown>;
      } catch {
        throw new Error(`${command} printed no JSON:\n${stdout}\n${stderr}`);
      }
      expect(info).toMatchObject({ api_version: '1.0', hostname: expect.any(String) });
      expect(Object.keys(info)).toEqual(expect.arrayContaining(['haproxy_version', 'keepalived_version', 'ipvsadm_version']));
    });

    it('keeps its files in ./.amphora-dev of the working directory and stops on SIGTERM with exit code 0', async () => {
      expect(existsSync(join(cwd, '.amphora-dev', 'amphora-agent.conf'))).toBe(true);
      expect(existsSync(join(cwd, '.amphora-dev', 'pki', 'server.pem'))).toBe(true);
      const exit = await agent.stop('SIGTERM');
      expect(exit, agent.describe()).toEqual({ code: 0, signal: null });
      expect(await portIsFree(DEV_PORT)).toBe(true);
    });
  });
});
