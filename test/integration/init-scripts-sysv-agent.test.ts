/**
 * @module test/integration/init-scripts-sysv-agent
 * The SysV script (init-scripts/sysvinit/amphora-agent) really starts and stops the built
 * agent: with a throwaway PKI and a config under a temporary root, its settings passed in
 * AMPHORA_AGENT_DEFAULTS so that /etc is not touched, the agent judged from outside (its pid
 * file, /proc, the port over mutual TLS). Only ever the test's own agent, found by its unique
 * config path, is killed. Skips with its reason when this machine lacks start-stop-daemon or the
 * built agent, and fails under CI.
 */
import { execFile, spawn } from 'node:child_process';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, GEN_CERTS, createAgentRoot, freePort, removeDir, type AgentRoot } from '../support/agent-fixture.js';
import { show, type Result } from '../support/commands.js';
import { SYSV, shInRepo } from '../support/init-script-files.js';
import { mtlsRequest, type MtlsResponse } from '../support/mtls-client.js';
import { tierCanRun } from '../support/requirements.js';

/** Pids of live processes whose argv has `arg` as one whole argument (a test's own config path). */
async function pidsWithArg(arg: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const argv = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ESRCH') return '';
      throw err;
    });
    if (argv.split('\0').includes(arg)) pids.push(Number(entry));
  }
  return pids;
}

const canRunSysv = tierCanRun('init-scripts: SysV start/stop', { binaries: ['start-stop-daemon', 'openssl', 'sh', 'bash'], files: [CLI, GEN_CERTS] });

describe.skipIf(!canRunSysv)('SysV script really starts and stops the agent', () => {
  let sb: AgentRoot;
  let dir: string;
  let pidFile: string;
  let defaults: string;

  const service = (action: string, defaultsFile = defaults): Promise<Result> =>
    shInRepo('sh', [SYSV, action], { env: { ...process.env, AMPHORA_AGENT_DEFAULTS: defaultsFile } });
  const writeDefaults = async (name: string, vars: Record<string, string>): Promise<string> => {
    const file = join(dir, name);
    await writeFile(file, Object.entries(vars).map(([k, v]) => `${k}='${v}'\n`).join(''));
    return file;
  };
  const agents = (): Promise<number[]> => pidsWithArg(sb.configFile);
  const readPid = async (): Promise<number> => Number((await readFile(pidFile, 'utf8')).trim());
  const getRoot = async (): Promise<MtlsResponse> =>
    mtlsRequest(
      { port: sb.port, ca: await readFile(sb.pki.serverCaPem, 'utf8'), servername: sb.pki.amphoraId, clientPem: await readFile(sb.pki.clientPem, 'utf8') },
      { path: '//', timeoutMs: 10_000 },
    );
  const gone = async (path: string): Promise<boolean> => stat(path).then(() => false, (err: NodeJS.ErrnoException) => err.code === 'ENOENT');

  beforeAll(async () => {
    sb = await createAgentRoot({ port: await freePort() });
    dir = sb.dir;
    pidFile = sb.at('run/amphora-agent.pid');
    defaults = await writeDefaults('defaults', {
      DAEMON: CLI,
      NODE: process.execPath,
      CONFIG: sb.configFile,
      PIDFILE: pidFile,
      LOGFILE: sb.at('var/log/amphora-agent.log'),
      STARTUP_WAIT: '2',
      STOP_TIMEOUT: '10',
    });
  });

  afterAll(async () => {
    // Only our own agent, found by its unique config path, if a failed test left it running.
    for (const pid of sb ? await agents() : []) process.kill(pid, 'SIGKILL');
    await removeDir(dir);
  });

  it('start runs the agent in the background; it answers GET // over mutual TLS', async () => {
    const r = await service('start');
    expect(r.code, show(r)).toBe(0);
    const pid = await readPid();
    expect(await agents()).toEqual([pid]);
    const res = await getRoot();
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ api_version: '1.0' });
  });

  it('status says running', async () => {
    const r = await service('status');
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toContain(`running (pid ${await readPid()})`);
  });

  it('runs the agent with the open-file limit of the systemd unit (NOFILE), or the hard limit where the host allows less', async () => {
    const limits = await readFile(`/proc/${await readPid()}/limits`, 'utf8');
    const soft = Number(/^Max open files\s+(\d+)/m.exec(limits)?.[1]);
    // what this host lets a shell here set (a container may cap the hard limit below 65536)
    const allowed = Number((await promisify(execFile)('sh', ['-c', 'ulimit -n 65536 2>/dev/null && ulimit -n || ulimit -H -n'])).stdout.trim());
    expect(soft).toBe(allowed);
  });

  it('a second start does not start a second agent', async () => {
    const before = await readPid();
    const r = await service('start');
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toContain('already running');
    expect(await readPid()).toBe(before);
    expect(await agents()).toEqual([before]);
  });

  it('restart replaces the process, which answers again', async () => {
    const before = await readPid();
    const r = await service('restart');
    expect(r.code, show(r)).toBe(0);
    const after = await readPid();
    expect(after).not.toBe(before);
    expect(await agents()).toEqual([after]);
    expect((await getRoot()).status).toBe(200);
  });

  it('stop leaves no agent process, no pid file and a closed port', async () => {
    const r = await service('stop');
    expect(r.code, show(r)).toBe(0);
    expect(await agents()).toEqual([]);
    expect(await gone(pidFile)).toBe(true);
    await expect(getRoot()).rejects.toThrow(/ECONNREFUSED/);
  });

  it('a second stop succeeds, and status then says not running (exit 3)', async () => {
    const r = await service('stop');
    expect(r.code, show(r)).toBe(0);
    const s = await service('status');
    expect(s.code, show(s)).toBe(3);
    expect(s.stdout).toContain('not running');
  });

  it('a stale pid file naming another live process: not running, stop spares that process, start works', async () => {
    const bystander = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      await writeFile(pidFile, `${bystander.pid}\n`);
      expect((await service('status')).code).toBe(1);
      expect((await service('stop')).code).toBe(0);
      expect(bystander.exitCode).toBeNull();
      expect(() => process.kill(bystander.pid ?? 0, 0)).not.toThrow();
      const r = await service('start');
      expect(r.code, show(r)).toBe(0);
      expect(await agents()).toEqual([await readPid()]);
      expect((await service('stop')).code).toBe(0);
      expect(await agents()).toEqual([]);
    } finally {
      bystander.kill('SIGKILL');
    }
  });

  it('start fails loudly (exit 5) when DAEMON cannot be run, e.g. a multi-word DAEMON', async () => {
    const file = await writeDefaults('defaults-multiword', { DAEMON: `${process.execPath} ${CLI}`, CONFIG: sb.configFile, PIDFILE: pidFile });
    const r = await service('start', file);
    expect(r.code, show(r)).toBe(5);
    expect(r.stderr).toContain('is not an executable file');
    expect(await agents()).toEqual([]);
    expect(await gone(pidFile)).toBe(true);
  });

  it('start reports a configuration error (the agent exits 2) as a failure and cleans up', async () => {
    const bad = join(dir, 'bad.conf');
    await writeFile(bad, '[haproxy_amphora]\nbind_port = not-a-port\n');
    const log = sb.at('var/log/bad.log');
    const file = await writeDefaults('defaults-bad', { DAEMON: CLI, NODE: process.execPath, CONFIG: bad, PIDFILE: pidFile, LOGFILE: log, STARTUP_WAIT: '2' });
    const r = await service('start', file);
    expect(r.code, show(r)).toBe(1);
    expect(r.stderr).toContain('exited during startup');
    expect(r.stderr).toContain('bind_port');
    expect(await pidsWithArg(bad)).toEqual([]);
    expect(await gone(pidFile)).toBe(true);
  });

  it('rejects unknown actions (exit 2) and reload (exit 3, the agent has none)', async () => {
    expect((await service('frobnicate')).code).toBe(2);
    expect((await service('reload')).code).toBe(3);
  });
});
