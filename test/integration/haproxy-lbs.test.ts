/**
 * A load balancer's haproxy end to end with the real binary: the agent's services
 * (HaproxyLoadBalancers over the real ExecaRunner and the `direct` init adapter, every directory
 * under a temporary root) run a config rendered from the listener model inside a network
 * namespace of the test's own, in front of two small HTTP servers started in that namespace.
 * Real requests go through the VIP. A changed config is a reload of the same master with a new
 * worker; a broken config is refused (400) and one haproxy cannot bind is refused by haproxy
 * itself (500), both leaving the running config serving. The tests run in order and share one
 * load balancer; each states what it expects to find from the one before.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { CommandFailed, ConfigRejected } from '../../src/model/errors.js';
import { listenerSchema } from '../../src/model/listener/schema.js';
import type { Uuid } from '../../src/model/uuid.js';
import { renderHaproxyConfig } from '../../src/render/haproxy-view.js';
import type { DaemonSpecs } from '../../src/services/daemon-specs.js';
import type { HaproxyLoadBalancers } from '../../src/services/haproxy-lbs.js';
import type { StateStore } from '../../src/services/state.js';
import { ExecaRunner } from '../../src/system/exec.js';
import type { Paths } from '../../src/system/paths.js';
import { directHaproxyHarness, haproxyMasterPid, haproxyNamespace, removeHaproxyNamespace } from '../support/haproxy-namespace.js';
import { SYSTEM_PYTHON, isGone, isRunning, netnsInode, procComm, processNetnsInode, sh, show, uniqueName, waitFor } from '../support/keepalived-fixture.js';
import { rejectionOf } from '../support/rejection.js';
import { tierCanRun } from '../support/requirements.js';

const canRun = tierCanRun('integration: haproxy load balancers, direct supervision', {
  root: true,
  binaries: ['haproxy', 'ip', 'curl'],
  files: ['/usr/sbin/haproxy', SYSTEM_PYTHON],
});

const VIP = '203.0.113.10';
/** An address the namespace does not have: haproxy cannot bind it. */
const MISSING_VIP = '203.0.113.99';
const PORT_A = 18081;
const PORT_B = 18082;

/** Pids of the live processes whose parent is `pid` (haproxy's workers, for its master). */
async function childrenOf(pid: number): Promise<number[]> {
  const out: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[1]) === pid && fields[0] !== 'Z') out.push(Number(entry));
  }
  return out.sort((a, b) => a - b);
}

describe.skipIf(!canRun)('haproxy load balancers: real haproxy under the direct adapter', () => {
  const ns = uniqueName('hx');
  const LB = randomUUID() as Uuid;
  const LISTENER = randomUUID();
  const log = silentLogger();
  const runner = new ExecaRunner(log, 60_000);
  let dir: string;
  let paths: Paths;
  let specs: DaemonSpecs;
  let lbs: HaproxyLoadBalancers;
  let state: StateStore;
  /** The config running at the end of each test. */
  let running: string;

  const member = (n: number, port: number, weight = 1) => ({ id: `dddddddd-0000-4000-8000-00000000000${n}`, address: '127.0.0.1', protocol_port: port, weight });
  const render = (members: ReturnType<typeof member>[], vip = VIP) =>
    renderHaproxyConfig(
      LB,
      [
        {
          id: LISTENER,
          listener: listenerSchema.parse({
            loadbalancer_id: LB,
            vip_addresses: [vip],
            protocol: 'TCP',
            protocol_port: 80,
            default_pool: {
              id: randomUUID(),
              lb_algorithm: 'ROUND_ROBIN',
              members,
              health_monitor: { id: randomUUID(), type: 'TCP', delay: 1, timeout: 1, max_retries: 1 },
            },
          }),
        },
      ],
      specs.haproxyRenderSettings(LB),
    );
  const masterPid = () => haproxyMasterPid(paths, LB);
  /** The names of the backends that answered `count` requests through the VIP. */
  const answers = async (count: number): Promise<string[]> => {
    const seen: string[] = [];
    for (let i = 0; i < count; i++) {
      const r = await sh('ip', ['netns', 'exec', ns, 'curl', '-sS', '--max-time', '3', `http://${VIP}/`]);
      expect(r.code, show(r)).toBe(0);
      seen.push(r.stdout);
    }
    return seen;
  };

  beforeAll(async () => {
    await haproxyNamespace(ns, VIP, [
      { port: PORT_A, body: 'A', label: 'backend A' },
      { port: PORT_B, body: 'B', label: 'backend B' },
    ]);
    dir = await mkdtemp(join(tmpdir(), 'aat-hl-'));
    const t = await directHaproxyHarness({ dir, ns, runner, log });
    ({ paths, state, specs, haproxy: lbs } = t);
  });

  afterAll(() => removeHaproxyNamespace(ns, dir));

  it('validates without changing anything', async () => {
    await expect(lbs.validate(LB, render([member(1, PORT_A)]))).resolves.toBeUndefined();
    const err = await rejectionOf(lbs.validate(LB, 'frontend x\n    bogus_keyword 1\n'));
    expect(err).toBeInstanceOf(ConfigRejected);
    expect(err.details).toMatch(/bogus_keyword/);
    expect(existsSync(paths.haproxyDir(LB))).toBe(false);
    expect(await lbs.read(LB)).toBeUndefined();
  });

  it('starts haproxy inside the namespace and passes traffic to the member', async () => {
    running = render([member(1, PORT_A)]);
    expect(await lbs.apply(LB, running, [LISTENER])).toBe('started');
    const pid = await masterPid();
    expect(await isRunning(pid)).toBe(true);
    expect(await procComm(pid)).toBe('haproxy');
    expect(await processNetnsInode(pid)).toBe(await netnsInode(ns));
    expect(await childrenOf(pid)).toHaveLength(1);
    expect(new Set(await answers(4))).toEqual(new Set(['A']));
    expect(await lbs.read(LB)).toBe(running);
    expect(state.current.loadBalancers[LB]).toMatchObject({ id: LB, wantRunning: true, listeners: [LISTENER] });
    expect(await readFile(paths.haproxyLogFile(LB), 'utf8')).toMatch(/Loading success\./);
  });

  it('does nothing when the same config is applied again', async () => {
    const pid = await masterPid();
    const workers = await childrenOf(pid);
    expect(await lbs.apply(LB, running, [LISTENER])).toBe('unchanged');
    expect(await masterPid()).toBe(pid);
    expect(await childrenOf(pid)).toEqual(workers);
  });

  it('reloads a changed config with SIGUSR2: the same master, a new worker, the new member serving', async () => {
    const pid = await masterPid();
    const [oldWorker] = await childrenOf(pid);
    running = render([member(1, PORT_A), member(2, PORT_B)]);
    expect(await lbs.apply(LB, running, [LISTENER])).toBe('reloaded');
    expect(await masterPid()).toBe(pid);
    expect(await isRunning(pid)).toBe(true);
    await waitFor('the old worker to leave', async () => !(await childrenOf(pid)).includes(oldWorker!), 15_000);
    expect(await childrenOf(pid)).toHaveLength(1);
    // round robin over both members: both answer
    expect(new Set(await answers(6))).toEqual(new Set(['A', 'B']));
    expect(await readFile(paths.haproxyLogFile(LB), 'utf8')).toMatch(/Reloading HAProxy[\s\S]*Loading success\./);
  });

  it('refuses a broken config with 400 and haproxy\'s words; the running config keeps serving', async () => {
    const pid = await masterPid();
    const workers = await childrenOf(pid);
    const broken = running.replace(/^(\s+balance roundrobin)$/m, '$1\n    bogus_keyword 42');
    expect(broken).not.toBe(running);
    const err = await rejectionOf(lbs.apply(LB, broken, [LISTENER]));
    expect(err).toBeInstanceOf(ConfigRejected);
    expect(err.status).toBe(400);
    expect(err.details).toMatch(/unknown keyword 'bogus_keyword'/);
    expect(await lbs.read(LB)).toBe(running);
    expect(await readFile(`${paths.haproxyConfig(LB)}.new-failed`, 'utf8')).toBe(broken);
    expect(await masterPid()).toBe(pid);
    expect(await childrenOf(pid)).toEqual(workers);
    expect(new Set(await answers(4))).toEqual(new Set(['A', 'B']));
  });

  it('answers 500 when haproxy refuses the reload (a VIP it cannot bind), and puts the running config back', async () => {
    const pid = await masterPid();
    const unbindable = render([member(1, PORT_A)], MISSING_VIP);
    const err = await rejectionOf(lbs.apply(LB, unbindable, [LISTENER]));
    expect(err).toBeInstanceOf(CommandFailed);
    expect(err.status).toBe(500);
    expect(err.message).toBe(`haproxy-${LB} refused the reload`);
    expect(err.details).toMatch(/cannot bind socket/);
    expect(await lbs.read(LB)).toBe(running);
    expect(await masterPid()).toBe(pid);
    expect(new Set(await answers(4))).toEqual(new Set(['A', 'B']));
    // and the master takes the next reload again
    const weighted = render([member(1, PORT_A, 0), member(2, PORT_B)]);
    expect(await lbs.apply(LB, weighted, [LISTENER])).toBe('reloaded');
    running = weighted;
    expect(await masterPid()).toBe(pid);
    expect(new Set(await answers(4))).toEqual(new Set(['B']));
  });

  it('removes the load balancer: haproxy, pid file, config, socket, log and state entry gone; again is fine', async () => {
    const pid = await masterPid();
    await lbs.remove(LB);
    await waitFor(`haproxy ${pid} to be gone`, () => isGone(pid), 15_000);
    for (const f of [paths.haproxyPidFile(LB), paths.haproxyConfig(LB), paths.haproxyStatsSocket(LB), paths.haproxyLogFile(LB), paths.haproxyDir(LB)]) {
      expect(existsSync(f), f).toBe(false);
    }
    expect(state.current.loadBalancers).toEqual({});
    expect(await lbs.read(LB)).toBeUndefined();
    await lbs.remove(LB);
    const r = await sh('ip', ['netns', 'exec', ns, 'curl', '-sS', '--max-time', '2', `http://${VIP}/`]);
    expect(r.code).not.toBe(0);
  });

  it('leaves nothing behind when a new load balancer cannot start', async () => {
    const other = randomUUID() as Uuid;
    const text = render([member(1, PORT_A)], MISSING_VIP).replaceAll(LB, other);
    const err = await rejectionOf(lbs.apply(other, text, [LISTENER]));
    expect(err).toBeInstanceOf(CommandFailed);
    // the direct adapter saw haproxy exit on the bind error: that, not a pid file, ended the wait
    expect(err.message).toMatch(new RegExp(`^haproxy-${other} exited during start \\(exit code [1-9]\\d*\\)$`));
    expect(err.details).toMatch(/cannot bind socket/);
    expect(await lbs.read(other)).toBeUndefined();
    expect(state.current.loadBalancers[other]).toBeUndefined();
    expect(existsSync(paths.haproxyPidFile(other))).toBe(false);
    await lbs.remove(other);
    expect(existsSync(paths.haproxyDir(other))).toBe(false);
  });
});
