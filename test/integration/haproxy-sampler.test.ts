/**
 * What HaproxyStatsSampler reads from the real haproxy 2.6, for the two ways a load balancer's
 * config reaches the agent: rendered by the agent from a listener model (API 2.0) and rendered by
 * Octavia's own templater and uploaded (API 1.0). Each is an HTTP listener whose pool has an HTTP
 * health monitor and two members: one served by a small HTTP server in the test's namespace, one
 * on a port where nothing listens. The same assertions hold for both, which is what shows that
 * the agent's config names its frontend, backend and servers as Octavia's does (listener id,
 * `<pool>:<listener>`, member id), so the heartbeat reports both alike. haproxy runs under the
 * `direct` init adapter in a network namespace of the test's own; requests go through the VIP
 * inside it. The tests of each way run in order on one load balancer.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { listenerSchema } from '../../src/model/listener/schema.js';
import type { Uuid } from '../../src/model/uuid.js';
import { renderHaproxyConfig } from '../../src/render/haproxy-view.js';
import { HaproxyStatsSampler } from '../../src/services/telemetry/haproxy-sampler.js';
import type { HaproxyLoadBalancerSample } from '../../src/services/telemetry/samples.js';
import { ExecaRunner } from '../../src/system/exec.js';
import { directHaproxyHarness, haproxyNamespace, removeHaproxyNamespace } from '../support/haproxy-namespace.js';
import { SYSTEM_PYTHON, sh, show, uniqueName, waitFor } from '../support/keepalived-fixture.js';
import { renderOctaviaHaproxy } from '../support/octavia-haproxy.js';
import { tierCanRun } from '../support/requirements.js';

const canRun = tierCanRun('integration: haproxy stats sampler, real haproxy under the direct adapter', {
  root: true,
  binaries: ['haproxy', 'ip', 'curl'],
  files: ['/usr/sbin/haproxy', SYSTEM_PYTHON, '/usr/lib/python3/dist-packages/octavia/common/jinja/haproxy/combined_listeners/jinja_cfg.py'],
});

const VIP = '203.0.113.40';
/** The member with a server behind it answers every GET with this body. */
const BODY = 'served';
const SERVED_PORT = 18481;
/** Nothing listens here: the member's HTTP check is refused. */
const UNSERVED_PORT = 18482;
const AMP = randomUUID();

interface MemberSpec {
  readonly id: string;
  readonly port: number;
  readonly weight: number;
  readonly enabled: boolean;
}

type Harness = Awaited<ReturnType<typeof directHaproxyHarness>>;

interface Way {
  readonly name: string;
  readonly lb: Uuid;
  readonly listener: string;
  readonly pool: string;
  /** The listener's port on the VIP. */
  readonly port: number;
  /** Puts the members in place and has haproxy run them (started or reloaded). */
  readonly deploy: (t: Harness, dir: string, members: readonly MemberSpec[]) => Promise<void>;
}

const monitorId = randomUUID();

/** API 2.0: the agent renders the listener model and applies it. */
function apiV2(): Way {
  const lb = randomUUID() as Uuid;
  const listener = randomUUID();
  const pool = randomUUID();
  const port = 80;
  return {
    name: 'a config the agent rendered (API 2.0)',
    lb,
    listener,
    pool,
    port,
    deploy: async (t, _dir, members) => {
      const model = listenerSchema.parse({
        loadbalancer_id: lb,
        vip_addresses: [VIP],
        protocol: 'HTTP',
        protocol_port: port,
        default_pool: {
          id: pool,
          lb_algorithm: 'ROUND_ROBIN',
          members: members.map((m) => ({ id: m.id, address: '127.0.0.1', protocol_port: m.port, weight: m.weight, admin_state_up: m.enabled })),
          health_monitor: { id: monitorId, type: 'HTTP', delay: 1, timeout: 1, max_retries: 1, url_path: '/', expected_codes: '200' },
        },
      });
      await t.haproxy.apply(lb, renderHaproxyConfig(lb, [{ id: listener, listener: model }], t.specs.haproxyRenderSettings(lb)), [listener]);
    },
  };
}

/** API 1.0: Octavia's templater renders it, the controller uploads it and reloads. */
function apiV1(): Way {
  const lb = randomUUID() as Uuid;
  const listener = randomUUID();
  const pool = randomUUID();
  const port = 8080;
  return {
    name: "Octavia's config, uploaded (API 1.0)",
    lb,
    listener,
    pool,
    port,
    deploy: async (t, dir, members) => {
      const text = await renderOctaviaHaproxy({
        base_path: t.paths.base,
        base_cert_dir: `${dir}/octavia/certs`,
        amphora_id: AMP,
        lb_id: lb,
        vip: VIP,
        listeners: [
          {
            id: listener,
            protocol: 'HTTP',
            port,
            pool_id: pool,
            // Octavia's default maxconn needs more open files than this host may give haproxy
            connection_limit: 2000,
            members: members.map((m) => ({ id: m.id, address: '127.0.0.1', port: m.port, weight: m.weight, enabled: m.enabled })),
            health_monitor: { id: monitorId, type: 'HTTP', delay: 1, timeout: 1, fall: 1, rise: 1 },
          },
        ],
      });
      await t.haproxy.upload(AMP as Uuid, lb, Buffer.from(text));
      await t.haproxy.act(lb, 'reload');
    },
  };
}

describe.skipIf(!canRun)('haproxy stats sampler: real haproxy 2.6', () => {
  const ns = uniqueName('hq');
  const log = silentLogger();
  const runner = new ExecaRunner(log, 60_000);
  const ways = [apiV2(), apiV1()];
  let dir: string;
  let t: Harness;
  let sampler: HaproxyStatsSampler;

  beforeAll(async () => {
    await haproxyNamespace(ns, VIP, [{ port: SERVED_PORT, body: BODY, label: 'the served member' }]);
    dir = await mkdtemp(join(tmpdir(), 'aat-hq-'));
    t = await directHaproxyHarness({ dir, ns, runner, log });
    sampler = new HaproxyStatsSampler({ state: t.state, paths: t.paths, log, timeoutMs: () => 10_000 });
  });

  afterAll(() => removeHaproxyNamespace(ns, dir));

  /** The load balancer's sample, once `ready` holds for it (haproxy's checks take a moment). */
  async function sampleWhen(lb: Uuid, what: string, ready: (s: HaproxyLoadBalancerSample) => boolean): Promise<HaproxyLoadBalancerSample> {
    let last: HaproxyLoadBalancerSample | undefined;
    return waitFor(
      what,
      async () => {
        last = (await sampler.sample()).find((s) => s.loadBalancerId === lb);
        return last !== undefined && ready(last) && last;
      },
      30_000,
      () => `last sample: ${JSON.stringify(last ?? null)}`,
    );
  }

  describe.each(ways)('$name', (way) => {
    const served = randomUUID();
    const unserved = randomUUID();
    const members = (first: Partial<MemberSpec> = {}): MemberSpec[] => [
      { id: served, port: SERVED_PORT, weight: 1, enabled: true, ...first },
      { id: unserved, port: UNSERVED_PORT, weight: 1, enabled: true },
    ];
    const pool = (s: HaproxyLoadBalancerSample) => s.pools.find((p) => p.key === `${way.pool}:${way.listener}`);
    const memberStatuses = (s: HaproxyLoadBalancerSample) => pool(s)?.members ?? {};

    it('shows the listener OPEN, the pool UP, the served member UP and the other DOWN by its HTTP check', async () => {
      await way.deploy(t, dir, members());
      const s = await sampleWhen(way.lb, 'the unserved member DOWN', (x) => memberStatuses(x)[unserved] === 'DOWN' && memberStatuses(x)[served] === 'UP');
      expect(s.listeners.map((l) => [l.id, l.status])).toEqual([[way.listener, 'OPEN']]);
      expect(s.pools).toEqual([{ key: `${way.pool}:${way.listener}`, poolId: way.pool, status: 'UP', members: { [served]: 'UP', [unserved]: 'DOWN' } }]);
      expect(new Set(s.rows.map((r) => `${r.proxy} ${r.server}`))).toEqual(
        new Set([`${way.listener} FRONTEND`, ...[served, unserved, 'BACKEND'].map((sv) => `${way.pool}:${way.listener} ${sv}`)]),
      );
    });

    it('counts the requests that go through the frontend: connections, bytes in and out, on the listener and the member that served them', async () => {
      const before = await sampleWhen(way.lb, 'a sample', () => true);
      for (let i = 0; i < 5; i++) {
        const r = await sh('ip', ['netns', 'exec', ns, 'curl', '-sS', '--max-time', '5', `http://${VIP}:${way.port}/`]);
        expect(r.stdout, show(r)).toBe(BODY);
      }
      const after = await sampleWhen(way.lb, 'a sample', () => true);
      const [b, a] = [before.listeners[0]!.counters!, after.listeners[0]!.counters!];
      expect(a.stot).toBe(b.stot + 5);
      expect(a.bin).toBeGreaterThan(b.bin);
      // five answers, each with at least the body
      expect(a.bout).toBeGreaterThanOrEqual(b.bout + 5 * BODY.length);
      expect(a.ereq).toBe(b.ereq);
      const row = (s: HaproxyLoadBalancerSample, server: string) => s.rows.find((r) => r.server === server)!;
      expect(row(after, served).stot).toBe(row(before, served).stot + 5);
      expect(row(after, unserved).stot).toBe(row(before, unserved).stot);
    });

    it('reports a member of weight 0 as DRAIN', async () => {
      await way.deploy(t, dir, members({ weight: 0 }));
      const s = await sampleWhen(way.lb, 'the weight-0 member DRAIN', (x) => memberStatuses(x)[served] === 'DRAIN');
      expect(memberStatuses(s)).toEqual({ [served]: 'DRAIN', [unserved]: 'DOWN' });
      expect(s.rows.find((r) => r.server === served)?.status).toBe('DRAIN');
    });

    it('reports a disabled member as MAINT, and the pool without a working member DOWN', async () => {
      await way.deploy(t, dir, members({ enabled: false }));
      const s = await sampleWhen(way.lb, 'the disabled member MAINT', (x) => memberStatuses(x)[served] === 'MAINT');
      expect(memberStatuses(s)).toEqual({ [served]: 'MAINT', [unserved]: 'DOWN' });
      expect(pool(s)?.status).toBe('DOWN');
      expect(s.listeners.map((l) => [l.id, l.status])).toEqual([[way.listener, 'OPEN']]);
    });
  });

  it('leaves out a load balancer whose haproxy was stopped, and still reports the other', async () => {
    const [stopped, other] = ways as [Way, Way];
    await t.haproxy.act(stopped.lb, 'stop');
    const samples = await sampler.sample();
    expect(samples.map((s) => s.loadBalancerId)).toEqual([other.lb]);
  });
});
