/**
 * @module test/integration/init-scripts
 * The agent's own service definitions (init-scripts/) and the image element
 * (diskimage-elements/amphora-agent/): each is checked by the tool its init system or
 * diskimage-builder would use, and the SysV script really starts and stops the built agent.
 * Every tier skips with its reason when this machine lacks a tool, and fails under CI.
 */
import { execFile, spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, GEN_CERTS, REPO_ROOT, createAgentRoot, freePort, removeDir, type AgentRoot } from '../support/agent-fixture.js';
import { mtlsRequest, type MtlsResponse } from '../support/mtls-client.js';
import { tierCanRun } from '../support/requirements.js';
import { parseUpstartJob } from '../support/upstart-job.js';

const UNIT = join(REPO_ROOT, 'init-scripts/systemd/amphora-agent.service');
const SYSV = join(REPO_ROOT, 'init-scripts/sysvinit/amphora-agent');
const UPSTART = join(REPO_ROOT, 'init-scripts/upstart/amphora-agent.conf');
const ELEMENT = join(REPO_ROOT, 'diskimage-elements/amphora-agent');
const PHASES = ['extra-data.d', 'install.d', 'post-install.d'];

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command and returns its exit code and output; never throws on a non-zero exit. */
function sh(cmd: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<Result> {
  return new Promise((ok, fail) => {
    execFile(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd ?? REPO_ROOT, timeout: opts.timeoutMs ?? 60_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return fail(err);
      ok({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
  });
}

const show = (r: Result): string => `exit ${r.code}\n${r.stdout}${r.stderr}`;

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

async function elementScripts(): Promise<string[]> {
  const out: string[] = [];
  for (const phase of PHASES) for (const f of await readdir(join(ELEMENT, phase))) out.push(join(ELEMENT, phase, f));
  return out;
}

const canVerifyUnit = tierCanRun('init-scripts: systemd unit', { binaries: ['systemd-analyze'], files: ['/usr/lib/systemd/system/multi-user.target'] });

describe.skipIf(!canVerifyUnit)('systemd unit', () => {
  let root: string;
  const verify = (unit: string): Promise<Result> => sh('systemd-analyze', ['verify', `--root=${root}`, unit]);

  beforeAll(async () => {
    // systemd-analyze verify checks that ExecStart's binary exists; --root lets it look in a
    // tree shaped like an amphora (systemd's own units plus /usr/local/bin/amphora-agent) instead
    // of this host. It needs no running systemd.
    root = await mkdtemp(join(tmpdir(), 'unit-root-'));
    await cp('/usr/lib/systemd/system', join(root, 'usr/lib/systemd/system'), { recursive: true, verbatimSymlinks: true });
    await mkdir(join(root, 'usr/local/bin'), { recursive: true });
    await writeFile(join(root, 'usr/local/bin/amphora-agent'), '#!/bin/sh\n', { mode: 0o755 });
    await cp(UNIT, join(root, 'usr/lib/systemd/system/amphora-agent.service'));
  });
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('passes `systemd-analyze verify` with no warning at all', async () => {
    const r = await verify('amphora-agent.service');
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout + r.stderr).toBe('');
  });

  it('is checked for real: a broken copy is reported', async () => {
    const text = await readFile(UNIT, 'utf8');
    await writeFile(join(root, 'usr/lib/systemd/system/broken.service'), text.replace(/^KillMode=process$/m, 'KillMode=bogus\nNoSuchKey=1'));
    const r = await verify('broken.service');
    expect(r.stderr).toContain('kill mode');
    expect(r.stderr).toContain('NoSuchKey');
    await writeFile(join(root, 'usr/lib/systemd/system/missing.service'), text.replace('/usr/local/bin/amphora-agent', '/usr/local/bin/not-there'));
    expect((await verify('missing.service')).code).not.toBe(0);
  });

  it('runs the npm-installed agent with the amphora config, restarts on failure and spares child daemons', async () => {
    const text = await readFile(UNIT, 'utf8');
    const value = (key: string): string[] => [...text.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1] ?? '');
    expect(value('ExecStart')).toEqual(['/usr/local/bin/amphora-agent --config-file /etc/octavia/amphora-agent.conf']);
    expect(value('Type')).not.toContain('notify');
    expect(value('Wants').join(' ')).toContain('network-online.target');
    expect(value('After').join(' ')).toContain('network-online.target');
    expect(value('Restart')).toEqual(['on-failure']);
    expect(value('KillMode')).toEqual(['process']);
    expect(value('WantedBy')).toEqual(['multi-user.target']);
  });
});

const canLint = tierCanRun('init-scripts: shell lint', { binaries: ['shellcheck', 'sh', 'bash'] });

describe.skipIf(!canLint)('shell scripts: sh -n and shellcheck', () => {
  const lint = async (file: string, shell: 'sh' | 'bash'): Promise<void> => {
    const syntax = await sh(shell, ['-n', file]);
    expect(syntax.code, `${shell} -n ${file}: ${show(syntax)}`).toBe(0);
    const check = await sh('shellcheck', ['--shell', shell, '--external-sources', file]);
    expect(check.code, `shellcheck ${file}: ${show(check)}`).toBe(0);
  };

  it('the SysV script', async () => {
    expect((await readFile(SYSV, 'utf8')).split('\n')[0]).toBe('#!/bin/sh');
    await lint(SYSV, 'sh');
  });

  it('every element script, by its interpreter', async () => {
    const scripts = await elementScripts();
    expect(scripts.length).toBeGreaterThanOrEqual(3);
    for (const f of scripts) await lint(f, 'bash');
    for (const f of await readdir(join(ELEMENT, 'environment.d'))) await lint(join(ELEMENT, 'environment.d', f), 'bash');
  });

  it("the upstart job's shell blocks", async () => {
    const job = parseUpstartJob(await readFile(UPSTART, 'utf8'));
    const dir = await mkdtemp(join(tmpdir(), 'upstart-'));
    for (const s of job.scripts) {
      // upstart runs each block with /bin/sh -e
      const file = join(dir, `${s.process}.sh`);
      await writeFile(file, `#!/bin/sh -e\n${s.body}`);
      await lint(file, 'sh');
    }
    await rm(dir, { recursive: true, force: true });
  });

  it("catches Octavia's old keepalived bug: a multi-word DAEMON tested unquoted", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lint-'));
    const file = join(dir, 'keepalived');
    await writeFile(file, '#!/bin/sh\nDAEMON="/usr/sbin/keepalived -D"\ntest -f $DAEMON || exit 0\n');
    const r = await sh('shellcheck', ['--shell', 'sh', file]);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toContain('SC2086');
    await rm(dir, { recursive: true, force: true });
  });
});

describe('upstart job, structurally (init-checkconf is not in Debian)', () => {
  it('has known stanzas, one main process, balanced events and a closed script block', async () => {
    const job = parseUpstartJob(await readFile(UPSTART, 'utf8'));
    expect(job.errors).toEqual([]);
    expect(job.stanzas.get('start on')).toHaveLength(1);
    expect(job.stanzas.get('stop on')).toHaveLength(1);
    expect(job.stanzas.has('respawn')).toBe(true);
    expect(job.scripts.map((s) => s.process)).toEqual(['main']);
    expect(job.scripts[0]?.body).toMatch(/exec "\$DAEMON" --config-file "\$CONFIG"/);
  });

  it('reports what a checker must report', () => {
    const bad = parseUpstartJob('description "x"\nstart on (a and b\nfrobnicate yes\nconsole loud\nscript\n  true\n');
    expect(bad.errors.join('\n')).toMatch(/balanced[\s\S]*unknown stanza "frobnicate"[\s\S]*console[\s\S]*no "end script"/);
    expect(parseUpstartJob('description "x"\nexec /bin/true\nscript\nend script\n').errors.join('\n')).toContain('exactly one main process');
  });
});

describe('image element layout', () => {
  it('has the files of a diskimage-builder element, sorted deps, valid JSON pkg-map', async () => {
    for (const f of ['README.rst', 'element-deps', 'package-installs.yaml', 'pkg-map', 'svc-map']) await stat(join(ELEMENT, f));
    const deps = (await readFile(join(ELEMENT, 'element-deps'), 'utf8')).trim().split('\n');
    expect(deps).toEqual([...deps].sort());
    expect(deps).toEqual(expect.arrayContaining(['dib-init-system', 'package-installs', 'pkg-map', 'svc-map']));
    const map = JSON.parse(await readFile(join(ELEMENT, 'pkg-map'), 'utf8')) as { default: Record<string, string> };
    const installs = await readFile(join(ELEMENT, 'package-installs.yaml'), 'utf8');
    for (const pkg of installs.match(/^[a-z0-9][a-z0-9.+-]*(?=:)/gm) ?? []) expect(map.default, `pkg-map default for ${pkg}`).toHaveProperty(pkg);
    for (const pkg of ['nodejs', 'npm', 'keepalived', 'haproxy', 'ipvsadm', 'iproute2', 'netcat-openbsd', 'openssl']) expect(installs).toMatch(new RegExp(`^${pkg}:`, 'm'));
  });

  it('phase scripts are executable bash with set -eu, pipefail and DIB_DEBUG_TRACE; environment files are not executable', async () => {
    for (const f of await elementScripts()) {
      const text = await readFile(f, 'utf8');
      expect((await stat(f)).mode & 0o111, `${f} executable`).toBe(0o111);
      expect(text.split('\n')[0], f).toBe('#!/bin/bash');
      expect(text, f).toMatch(/^set -eu$/m);
      expect(text, f).toMatch(/^set -o pipefail$/m);
      expect(text, f).toContain('${DIB_DEBUG_TRACE:-0}');
    }
    for (const f of await readdir(join(ELEMENT, 'environment.d'))) expect((await stat(join(ELEMENT, 'environment.d', f))).mode & 0o111, f).toBe(0);
  });

  it('post-install installs a file for each init system DIB names, with the SysV script executable', async () => {
    const text = await readFile(join(ELEMENT, 'post-install.d/11-enable-amphora-agent'), 'utf8');
    expect(text).toMatch(/^\s*systemd\)/m);
    expect(text).toMatch(/^\s*sysv\|sysvinit\)/m);
    expect(text).toMatch(/^\s*upstart\)/m);
    expect(text).toMatch(/-m 0755 "\$SCRIPTS\/sysvinit\/amphora-agent"/);
  });
});

const canDibLint = tierCanRun('init-scripts: dib-lint', { binaries: ['dib-lint', 'python3', 'git', 'file'], python: 'yaml' });

describe.skipIf(!canDibLint)('dib-lint', () => {
  it('passes on diskimage-elements/', async () => {
    // dib-lint calls `python`; Debian 12 only has python3 unless python-is-python3 is installed.
    const shim = await mkdtemp(join(tmpdir(), 'dib-lint-'));
    await symlink('/usr/bin/python3', join(shim, 'python'));
    await mkdir(join(shim, 'lib'));
    const env = { ...process.env, PATH: `${shim}:${process.env['PATH'] ?? ''}`, ELEMENTS_DIR: 'diskimage-elements', LIB_DIR: join(shim, 'lib') };
    const r = await sh('dib-lint', [], { env, timeoutMs: 120_000 });
    await rm(shim, { recursive: true, force: true });
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toMatch(/^PASS$/m);
  });
});

const canRunSysv = tierCanRun('init-scripts: SysV start/stop', { binaries: ['start-stop-daemon', 'openssl', 'sh', 'bash'], files: [CLI, GEN_CERTS] });

describe.skipIf(!canRunSysv)('SysV script really starts and stops the agent', () => {
  let sb: AgentRoot;
  let dir: string;
  let pidFile: string;
  let defaults: string;

  const service = (action: string, defaultsFile = defaults): Promise<Result> =>
    sh('sh', [SYSV, action], { env: { ...process.env, AMPHORA_AGENT_DEFAULTS: defaultsFile } });
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
