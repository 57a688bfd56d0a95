/**
 * @module test/integration/haproxy-open-files
 * haproxy's open-file limit under the `direct` adapter, with the real binary: the agent's own
 * soft limit is lowered for this file (prlimit on this test process; the hard limit is kept),
 * as on a host whose default limit is small. haproxy needs about two descriptors per connection
 * of its global maxconn and refuses to start when it cannot raise its limit that far.
 * - A daemon the agent starts gets the limit raised as far as the host allows (DaemonUnitSpec
 *   nofile, system/init/open-file-limit.ts), whatever the agent's own soft limit; so does the
 *   rendered sysvinit script, run by hand from the same process.
 * - A config that needs more descriptors than the agent's soft limit but fewer than the hard
 *   limit starts and serves.
 * - A config that needs more than any limit the host allows (Octavia's default, maxconn 100000,
 *   on this sandbox whose hard limit is 20000) is a 500 whose details carry haproxy's own words
 *   ("Cannot raise FD limit to N, limit is M."), and nothing is half-applied: a new load balancer
 *   leaves no config, pid file or state behind; a running one keeps its config and keeps serving.
 *   haproxy exits before it writes its pid file; the direct adapter sees its process exit, which
 *   ends the start's wait at once (the ready timeout here is an hour) with the exit code.
 * The API 1.0 route shows the same 500 as JSON, the way the controller sees it.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { silentLogger } from '../../src/log.js';
import { CommandFailed } from '../../src/model/errors.js';
import type { Uuid } from '../../src/model/uuid.js';
import { renderDaemonUnit } from '../../src/render/init-units.js';
import { HAPROXY_NOFILE, type DaemonSpecs } from '../../src/services/daemon-specs.js';
import type { HaproxyLoadBalancers } from '../../src/services/haproxy-lbs.js';
import type { StateStore } from '../../src/services/state.js';
import { ExecaRunner } from '../../src/system/exec.js';
import type { Paths } from '../../src/system/paths.js';
import { directHaproxyHarness, haproxyMasterPid, haproxyNamespace, removeHaproxyNamespace } from '../support/haproxy-namespace.js';
import { SYSTEM_PYTHON, isRunning, must, sh, show, uniqueName } from '../support/keepalived-fixture.js';
import { rejectionOf } from '../support/rejection.js';
import { tierCanRun } from '../support/requirements.js';

/** The agent's soft limit for this file: below what the middle case needs. */
const LOW_SOFT = 1024;
/** process_ready_timeout for this file: far past vitest's 60 s test timeout. */
const READY_TIMEOUT_S = 3600;
/** The middle case's maxconn: haproxy 2.6 asks for 2 * maxconn + a few (about 10030). */
const MIDDLE_MAXCONN = 5000;

/** "Max open files" of a process: [soft, hard]. */
async function openFileLimits(pid: number | 'self'): Promise<[number, number]> {
  const line = (await readFile(`/proc/${pid}/limits`, 'utf8')).split('\n').find((l) => l.startsWith('Max open files'));
  const m = line === undefined ? null : /^Max open files\s+(\d+)\s+(\d+)/.exec(line);
  if (!m) throw new Error(`no numeric open-file limits for ${pid}: ${line}`);
  return [Number(m[1]), Number(m[2])];
}

const nrOpen = async () => Number((await readFile('/proc/sys/fs/nr_open', 'utf8')).trim());

const base = tierCanRun('integration: haproxy open-file limit, direct supervision', {
  root: true,
  binaries: ['haproxy', 'ip', 'prlimit', 'curl'],
  files: ['/usr/sbin/haproxy', SYSTEM_PYTHON],
});
/**
 * The middle case needs a hard limit above what it asks for: a property of the host, not of an
 * install, so it skips with its reason (under CI too).
 */
function hardLimitHigh(): boolean {
  const hard = Number(/^Max open files\s+\S+\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1] ?? 0);
  if (hard > 2 * MIDDLE_MAXCONN + 1000) return true;
  process.stderr.write(`SKIP integration: haproxy open-file limit, soft < need < hard: this host's hard limit (${hard}) is too low\n`);
  return false;
}
const canRunMiddle = base && hardLimitHigh();

const VIP = '203.0.113.20';
const BACKEND_PORT = 18391;

/** A combined config as the controller's: one TCP frontend (named by its listener id) on `port`. */
function config(listener: string, maxconn: number, port: number): string {
  return [
    'global', `    maxconn ${maxconn}`,
    'defaults', '    mode tcp', '    timeout connect 5s', '    timeout client 30s', '    timeout server 30s',
    `frontend ${listener}`, `    maxconn ${maxconn}`, `    bind ${VIP}:${port}`, '    default_backend pool',
    'backend pool', `    server member 127.0.0.1:${BACKEND_PORT}`, '',
  ].join('\n');
}

describe.skipIf(!base)('haproxy open-file limit: real haproxy under the direct adapter, agent soft limit lowered', () => {
  const ns = uniqueName('nf');
  const log = silentLogger();
  const runner = new ExecaRunner(log, 60_000);
  let dir: string;
  let paths: Paths;
  let lbs: HaproxyLoadBalancers;
  let specs: DaemonSpecs;
  let state: StateStore;
  let app: ReturnType<typeof createApp>;
  let agentLimits: [number, number];
  /** What haproxy may need at most here: over this, no raise can succeed (haproxy runs as root). */
  let ceiling: number;

  const masterPid = (lb: Uuid) => haproxyMasterPid(paths, lb);
  const curl = (port: number) => sh('ip', ['netns', 'exec', ns, 'curl', '-sS', '--max-time', '3', `http://${VIP}:${port}/`]);

  beforeAll(async () => {
    agentLimits = await openFileLimits('self');
    ceiling = Math.max(HAPROXY_NOFILE, await nrOpen(), agentLimits[1]);
    await haproxyNamespace(ns, VIP, [{ port: BACKEND_PORT, body: 'ok', label: 'the backend' }]);
    dir = await mkdtemp(join(tmpdir(), 'aat-nf-'));
    // a ready timeout longer than any test may run (60 s): a start that fails must fail because
    // the direct adapter saw haproxy exit, not because the wait ran out
    const t = await directHaproxyHarness({ dir, ns, runner, log, readyTimeoutSeconds: READY_TIMEOUT_S });
    ({ paths, state, specs, haproxy: lbs } = t);
    app = createApp({ ...t, log });
    // The agent (this test process) as on a host with a small default: only the soft limit, so
    // that afterAll can put it back (lowering the hard limit could not be undone).
    await must('prlimit', ['--pid', String(process.pid), `--nofile=${LOW_SOFT}:`]);
    expect(await openFileLimits('self')).toEqual([LOW_SOFT, agentLimits[1]]);
  });

  afterAll(async () => {
    if (agentLimits) await must('prlimit', ['--pid', String(process.pid), `--nofile=${agentLimits[0]}:`]);
    await removeHaproxyNamespace(ns, dir);
  });

  it('raises the limit of the haproxy it starts as far as the host allows, not the agent\'s soft limit', async () => {
    const lb = randomUUID() as Uuid;
    // needs a few hundred descriptors: haproxy keeps the limit it was started with
    expect(await lbs.apply(lb, config(randomUUID(), 100, 8001), [])).toBe('started');
    const [soft, hard] = await openFileLimits(await masterPid(lb));
    expect(soft).toBe(hard);
    // the reference's limit where the host grants it (CAP_SYS_RESOURCE, fs.nr_open), else the hard limit
    expect([HAPROXY_NOFILE, agentLimits[1]]).toContain(soft);
    expect(soft).toBeGreaterThan(LOW_SOFT);
    await lbs.remove(lb);
  });

  it.skipIf(!canRunMiddle)('starts and serves a config that needs more descriptors than the agent\'s soft limit, fewer than its hard limit', async () => {
    const lb = randomUUID() as Uuid;
    expect(await lbs.apply(lb, config(randomUUID(), MIDDLE_MAXCONN, 8002), [])).toBe('started');
    const pid = await masterPid(lb);
    expect(await isRunning(pid)).toBe(true);
    expect((await openFileLimits(pid))[0]).toBeGreaterThan(2 * MIDDLE_MAXCONN);
    const r = await curl(8002);
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toBe('ok');
  });

  it('sysvinit: the rendered script raises the limit of the haproxy it starts the same way', async () => {
    const lb = randomUUID() as Uuid;
    const spec = specs.haproxy(lb);
    await mkdir(paths.haproxyDir(lb), { recursive: true });
    await writeFile(paths.haproxyConfig(lb), config(randomUUID(), 100, 8006));
    // the namespace setup script the script runs first was written by the first case's start
    expect(existsSync(paths.netnsSetupScript)).toBe(true);
    const script = join(dir, spec.unit);
    await writeFile(script, renderDaemonUnit('sysvinit', spec), { mode: 0o755 });
    // run by this process, whose soft limit is LOW_SOFT: the script's ulimit line is all that raises it
    const start = await sh('/bin/sh', [script, 'start']);
    expect(start.code, show(start)).toBe(0);
    const [soft, hard] = await openFileLimits(await masterPid(lb));
    expect(soft).toBe(hard);
    expect([HAPROXY_NOFILE, agentLimits[1]]).toContain(soft);
    expect((await curl(8006)).stdout).toBe('ok');
    const stop = await sh('/bin/sh', [script, 'stop']);
    expect(stop.code, show(stop)).toBe(0);
  });

  it('answers 500 with haproxy\'s words for a new load balancer needing more than the host allows, and leaves nothing behind', async () => {
    const lb = randomUUID() as Uuid;
    const err = await rejectionOf(lbs.apply(lb, config(randomUUID(), ceiling, 8003), []));
    expect(err).toBeInstanceOf(CommandFailed);
    expect(err.status).toBe(500);
    // haproxy exits before it writes its pid file: the direct adapter saw its process end, and that
    // ended the wait (process_ready_timeout is longer than this test may run, see beforeAll)
    expect(err.message).toMatch(new RegExp(`^haproxy-${lb} exited during start \\(exit code [1-9]\\d*\\)$`));
    expect((err as CommandFailed).exitCode).toBeGreaterThan(0);
    expect(err.details).toMatch(/Cannot raise FD limit to \d+, limit is \d+\./);
    expect(await lbs.read(lb)).toBeUndefined();
    expect(state.current.loadBalancers[lb]).toBeUndefined();
    expect(existsSync(paths.haproxyPidFile(lb))).toBe(false);
    expect(existsSync(paths.haproxyConfig(lb))).toBe(false);
    expect((await curl(8003)).code).not.toBe(0);
  });

  it('keeps a running load balancer serving its config when a change would need more than the host allows', async () => {
    const lb = randomUUID() as Uuid;
    const listener = randomUUID();
    const running = config(listener, 1000, 8004);
    expect(await lbs.apply(lb, running, [listener])).toBe('started');
    const pid = await masterPid(lb);
    const err = await rejectionOf(lbs.apply(lb, config(listener, ceiling, 8004), [listener]));
    expect(err).toBeInstanceOf(CommandFailed);
    expect(err.status).toBe(500);
    expect(err.details).toMatch(/Cannot raise FD limit to \d+, limit is \d+\./);
    expect(await lbs.read(lb)).toBe(running);
    expect(await masterPid(lb)).toBe(pid);
    expect(await isRunning(pid)).toBe(true);
    const r = await curl(8004);
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toBe('ok');
  });

  it('API 1.0: the controller\'s reload of such a config gets a 500 JSON error that says why', async () => {
    const amp = randomUUID();
    const lb = randomUUID() as Uuid;
    await request(app).put(`/1.0/loadbalancer/${amp}/${lb}/haproxy`).send(config(randomUUID(), ceiling, 8005)).expect(202);
    const res = await request(app).put(`/1.0/loadbalancer/${lb}/reload`);
    expect(res.status, res.text).toBe(500);
    expect(res.body.message).toMatch(new RegExp(`^haproxy-${lb} exited during start \\(exit code [1-9]\\d*\\)$`));
    expect(res.body.details).toMatch(/Cannot raise FD limit to \d+, limit is \d+\./);
    expect(existsSync(paths.haproxyPidFile(lb))).toBe(false);
    expect((await curl(8005)).code).not.toBe(0);
  });
});
