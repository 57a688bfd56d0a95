/**
 * The agent renders keepalived LVS configs from its listener model (render/lvs-view.ts); the
 * reference is what Octavia's own LvsJinjaTemplater (python3-octavia, through
 * test/support/octavia-render.py) renders for the same listener. Each fixture below is written
 * once, as the agent's listener model JSON; `octaviaSpec` builds the objects Octavia's
 * templater reads from it. Both renders are parsed (test/support/keepalived-lvs-parse.ts),
 * normalized by the equivalences listed there and compared whole: virtual servers, schedulers,
 * persistence, timers, real servers, weights, thresholds and checks. Both must pass the real
 * `keepalived --config-test` (services/keepalived-validate.ts over the real ExecaRunner).
 *
 * Only features Octavia has are compared: no ONE_PACKET_SCHEDULING (Octavia's LVS template has
 * no `ops`), no PING monitor (Octavia renders no check for it, the agent a PING_CHECK; covered
 * by the agent's own tests). The last tests pin two places where Octavia's render is wrong and
 * the agent's is not.
 *
 * Both configs name a network namespace; keepalived enters it while it checks the config, so
 * the test creates one of its own and puts its name into both.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { AgentError } from '../../src/model/errors.js';
import { listenerViolations } from '../../src/model/listener/rules.js';
import { parseListenerShape, type LbAlgorithm, type Listener } from '../../src/model/listener/schema.js';
import { renderLvsConfig, type LvsRenderSettings } from '../../src/render/lvs-view.js';
import { renderUdpCheck } from '../../src/render/scripts.js';
import { validateKeepalivedConfig } from '../../src/services/apply/validators.js';
import { ExecaRunner } from '../../src/system/exec.js';
import { KEEPALIVED, RENDER_SCRIPT, SYSTEM_PYTHON, addNetns, deleteNetns, sh, show, uniqueName } from '../support/keepalived-fixture.js';
import { normalizeLvs, parseLvsConfig, type LvsConfig, type NormalizedLvs } from '../support/keepalived-lvs-parse.js';
import { tierCanRun } from '../support/requirements.js';

const canRun = tierCanRun('integration: LVS renders equivalent to Octavia', {
  root: true,
  binaries: ['keepalived', 'ip'],
  python: 'octavia',
  files: [RENDER_SCRIPT],
});

// ---------------------------------------------------------------------------------------------
// Fixtures: the agent's listener model
// ---------------------------------------------------------------------------------------------

const LB_ID = 'aaaaaaaa-0000-4000-8000-000000000001';
const POOL_ID = 'bbbbbbbb-0000-4000-8000-000000000001';
const HM_ID = 'cccccccc-0000-4000-8000-000000000001';
const memberId = (n: number): string => `dddddddd-0000-4000-8000-${String(n).padStart(12, '0')}`;
const listenerId = (n: number): string => `eeeeeeee-0000-4000-8000-${String(n).padStart(12, '0')}`;

type Json = Record<string, unknown>;

const member = (n: number, address: string, port: number, extra: Json = {}): Json => ({ id: memberId(n), address, protocol_port: port, ...extra });
const twoMembers = [member(1, '192.0.2.11', 5353), member(2, '192.0.2.12', 5353)];
const udp = (pool: Json | null, extra: Json = {}): Json => ({
  loadbalancer_id: LB_ID,
  vip_addresses: ['203.0.113.10'],
  protocol: 'UDP',
  protocol_port: 53,
  default_pool: pool,
  ...extra,
});
const sctp = (pool: Json | null, extra: Json = {}): Json => udp(pool, { protocol: 'SCTP', protocol_port: 3868, ...extra });
const pool = (lbAlgorithm: LbAlgorithm, members: Json[], extra: Json = {}): Json => ({ id: POOL_ID, lb_algorithm: lbAlgorithm, members, ...extra });
const monitor = (type: string, extra: Json = {}): Json => ({ id: HM_ID, type, delay: 5, timeout: 3, max_retries: 3, ...extra });

interface Fixture {
  readonly name: string;
  readonly model: Json;
  /** How many virtual servers keepalived sets up from it: the fixture is what its name says. */
  readonly virtualServers: number;
  /** The kind of the member checks, null when there are none. */
  readonly check: 'MISC_CHECK' | 'TCP_CHECK' | 'HTTP_GET' | null;
}

const FIXTURES: readonly Fixture[] = [
  {
    name: 'UDP, ROUND_ROBIN, UDP-CONNECT monitor',
    model: udp(pool('ROUND_ROBIN', twoMembers, { health_monitor: monitor('UDP-CONNECT') })),
    virtualServers: 1,
    check: 'MISC_CHECK',
  },
  {
    name: 'UDP, ROUND_ROBIN, weights 0, 1, 5 and 256, TCP monitor with max_retries_down',
    model: udp(
      pool('ROUND_ROBIN', [member(1, '192.0.2.11', 53, { weight: 0 }), member(2, '192.0.2.12', 53, { weight: 1 }), member(3, '192.0.2.13', 53, { weight: 5 }), member(4, '192.0.2.14', 53, { weight: 256 })], {
        health_monitor: monitor('TCP', { delay: 10, timeout: 4, max_retries: 2, max_retries_down: 4 }),
      }),
    ),
    virtualServers: 1,
    check: 'TCP_CHECK',
  },
  {
    name: 'UDP, LEAST_CONNECTIONS, connection_limit 100, UDP-CONNECT monitor',
    model: udp(pool('LEAST_CONNECTIONS', twoMembers, { health_monitor: monitor('UDP-CONNECT', { delay: 7, timeout: 2, max_retries: 1, max_retries_down: 5 }) }), { connection_limit: 100 }),
    virtualServers: 1,
    check: 'MISC_CHECK',
  },
  {
    name: 'UDP, LEAST_CONNECTIONS, connection_limit -1, no monitor',
    model: udp(pool('LEAST_CONNECTIONS', [member(1, '192.0.2.11', 5353, { weight: 3 }), member(2, '192.0.2.12', 5354)]), { connection_limit: -1 }),
    virtualServers: 1,
    check: null,
  },
  {
    name: 'UDP, SOURCE_IP algorithm, SOURCE_IP persistence without timeout or granularity',
    model: udp(pool('SOURCE_IP', twoMembers, { session_persistence: { type: 'SOURCE_IP' }, health_monitor: monitor('UDP-CONNECT') })),
    virtualServers: 1,
    check: 'MISC_CHECK',
  },
  {
    name: 'UDP, ROUND_ROBIN, SOURCE_IP persistence with a timeout only',
    model: udp(pool('ROUND_ROBIN', twoMembers, { session_persistence: { type: 'SOURCE_IP', persistence_timeout: 60 }, health_monitor: monitor('TCP') })),
    virtualServers: 1,
    check: 'TCP_CHECK',
  },
  {
    name: 'UDP, LEAST_CONNECTIONS, SOURCE_IP persistence with timeout and granularity, connection_limit 50',
    model: udp(
      pool('LEAST_CONNECTIONS', twoMembers, {
        session_persistence: { type: 'SOURCE_IP', persistence_timeout: 120, persistence_granularity: '255.255.255.0' },
        health_monitor: monitor('UDP-CONNECT'),
      }),
      { connection_limit: 50 },
    ),
    virtualServers: 1,
    check: 'MISC_CHECK',
  },
  {
    name: 'UDP, SOURCE_IP algorithm, SOURCE_IP persistence with a granularity only (null timeout)',
    model: udp(pool('SOURCE_IP', twoMembers, { session_persistence: { type: 'SOURCE_IP', persistence_timeout: null, persistence_granularity: '255.255.0.0' } })),
    virtualServers: 1,
    check: null,
  },
  {
    name: 'UDP, SOURCE_IP persistence with persistence_timeout 0 (Octavia: its default, 360 s)',
    model: udp(pool('ROUND_ROBIN', twoMembers, { session_persistence: { type: 'SOURCE_IP', persistence_timeout: 0 } })),
    virtualServers: 1,
    check: null,
  },
  {
    name: 'UDP, HTTP monitor, one expected code, GET',
    model: udp(pool('ROUND_ROBIN', twoMembers, { health_monitor: monitor('HTTP', { http_method: 'GET', url_path: '/healthz', expected_codes: '200' }) })),
    virtualServers: 1,
    check: 'HTTP_GET',
  },
  {
    name: 'UDP, HTTP monitor, a list of expected codes and a query in the url path',
    model: udp(pool('LEAST_CONNECTIONS', twoMembers, { health_monitor: monitor('HTTP', { url_path: '/health/check?probe=lvs', expected_codes: '200,202,204' }) })),
    virtualServers: 1,
    check: 'HTTP_GET',
  },
  {
    name: 'UDP, HTTP monitor, a range of expected codes, Octavia’s defaults for path and method',
    model: udp(pool('SOURCE_IP', twoMembers, { health_monitor: monitor('HTTP', { expected_codes: '200-204', max_retries_down: 2 }) })),
    virtualServers: 1,
    check: 'HTTP_GET',
  },
  {
    name: 'UDP, HTTP monitor without expected codes (Octavia’s default 200)',
    model: udp(pool('ROUND_ROBIN', twoMembers, { health_monitor: monitor('HTTP', { url_path: '/' }) })),
    virtualServers: 1,
    check: 'HTTP_GET',
  },
  {
    name: 'UDP, TCP monitor on monitor_address and monitor_port',
    model: udp(
      pool('ROUND_ROBIN', [member(1, '192.0.2.11', 5353, { monitor_address: '192.0.2.111', monitor_port: 8080 }), member(2, '192.0.2.12', 5353, { monitor_address: null, monitor_port: null })], {
        health_monitor: monitor('TCP'),
      }),
    ),
    virtualServers: 1,
    check: 'TCP_CHECK',
  },
  {
    name: 'UDP, UDP-CONNECT monitor on a monitor_port only and on a monitor_address only',
    model: udp(pool('ROUND_ROBIN', [member(1, '192.0.2.11', 5353, { monitor_port: 5400 }), member(2, '192.0.2.12', 5353, { monitor_address: '192.0.2.112' })], { health_monitor: monitor('UDP-CONNECT') })),
    virtualServers: 1,
    check: 'MISC_CHECK',
  },
  {
    name: 'SCTP, ROUND_ROBIN, SCTP monitor',
    model: sctp(pool('ROUND_ROBIN', [member(1, '192.0.2.21', 3868), member(2, '192.0.2.22', 3868)], { protocol: 'SCTP', health_monitor: monitor('SCTP') })),
    virtualServers: 1,
    check: 'MISC_CHECK',
  },
  {
    name: 'SCTP, SCTP monitor on monitor_address and monitor_port, weights 2 and 10',
    model: sctp(
      pool('ROUND_ROBIN', [member(1, '192.0.2.21', 3868, { weight: 2, monitor_address: '192.0.2.121', monitor_port: 3869 }), member(2, '192.0.2.22', 3868, { weight: 10 })], {
        health_monitor: monitor('SCTP', { delay: 8, timeout: 6, max_retries: 4 }),
      }),
    ),
    virtualServers: 1,
    check: 'MISC_CHECK',
  },
  {
    name: 'SCTP, LEAST_CONNECTIONS, TCP monitor, connection_limit 1',
    model: sctp(pool('LEAST_CONNECTIONS', [member(1, '192.0.2.21', 3868), member(2, '192.0.2.22', 3868)], { health_monitor: monitor('TCP') }), { connection_limit: 1 }),
    virtualServers: 1,
    check: 'TCP_CHECK',
  },
  {
    name: 'SCTP, SOURCE_IP algorithm and persistence (timeout 30, granularity 255.255.255.240), HTTP monitor with a range',
    model: sctp(
      pool('SOURCE_IP', [member(1, '192.0.2.21', 3868), member(2, '192.0.2.22', 3868)], {
        session_persistence: { type: 'SOURCE_IP', persistence_timeout: 30, persistence_granularity: '255.255.255.240' },
        health_monitor: monitor('HTTP', { url_path: '/ready', expected_codes: '200-206' }),
      }),
    ),
    virtualServers: 1,
    check: 'HTTP_GET',
  },
  {
    name: 'IPv6 VIP and members, UDP-CONNECT monitor',
    model: udp(pool('ROUND_ROBIN', [member(1, '2001:db8::11', 53), member(2, '2001:db8::12', 53, { weight: 4 })], { health_monitor: monitor('UDP-CONNECT') }), { vip_addresses: ['2001:db8::10'] }),
    virtualServers: 1,
    check: 'MISC_CHECK',
  },
  {
    name: 'IPv6, SOURCE_IP persistence with granularity 64, TCP monitor on an IPv6 monitor address',
    model: udp(
      pool('SOURCE_IP', [member(1, '2001:db8::11', 53, { monitor_address: '2001:db8::111' }), member(2, '2001:db8::12', 53)], {
        session_persistence: { type: 'SOURCE_IP', persistence_timeout: 600, persistence_granularity: '64' },
        health_monitor: monitor('TCP'),
      }),
      { vip_addresses: ['2001:db8::10'] },
    ),
    virtualServers: 1,
    check: 'TCP_CHECK',
  },
  {
    name: 'IPv6 SCTP, HTTP monitor with a list of codes',
    model: sctp(pool('LEAST_CONNECTIONS', [member(1, '2001:db8::21', 3868), member(2, '2001:db8::22', 3868)], { health_monitor: monitor('HTTP', { expected_codes: '200,301' }) }), {
      vip_addresses: ['2001:db8::20'],
    }),
    virtualServers: 1,
    check: 'HTTP_GET',
  },
  {
    name: 'IPv4 and IPv6 VIPs, members in both families, TCP monitor',
    model: udp(pool('ROUND_ROBIN', [member(1, '192.0.2.11', 53), member(2, '2001:db8::11', 53, { weight: 2 }), member(3, '192.0.2.12', 53)], { health_monitor: monitor('TCP') }), {
      vip_addresses: ['203.0.113.10', '2001:db8::10'],
    }),
    virtualServers: 2,
    check: 'TCP_CHECK',
  },
  {
    name: 'two IPv4 VIPs and one IPv6 VIP, LEAST_CONNECTIONS, UDP-CONNECT monitor, connection_limit 10',
    model: udp(pool('LEAST_CONNECTIONS', [member(1, '192.0.2.11', 53), member(2, '2001:db8::11', 53)], { health_monitor: monitor('UDP-CONNECT') }), {
      vip_addresses: ['2001:db8::10', '203.0.113.10', '203.0.113.11'],
      connection_limit: 10,
    }),
    virtualServers: 2,
    check: 'MISC_CHECK',
  },
  {
    name: 'IPv4 and IPv6 VIPs, IPv4 members only (the IPv6 virtual server has no real servers)',
    model: udp(pool('ROUND_ROBIN', twoMembers, { health_monitor: monitor('UDP-CONNECT') }), { vip_addresses: ['203.0.113.10', '2001:db8::10'] }),
    virtualServers: 1,
    check: 'MISC_CHECK',
  },
  {
    name: 'a disabled member among enabled ones',
    model: udp(pool('ROUND_ROBIN', [member(1, '192.0.2.11', 5353, { admin_state_up: false }), member(2, '192.0.2.12', 5353), member(3, '192.0.2.13', 5353, { admin_state_up: true })], { health_monitor: monitor('UDP-CONNECT') })),
    virtualServers: 1,
    check: 'MISC_CHECK',
  },
  {
    name: 'a disabled monitor (no timers, no checks)',
    model: udp(pool('ROUND_ROBIN', twoMembers, { health_monitor: monitor('UDP-CONNECT', { admin_state_up: false }) })),
    virtualServers: 1,
    check: null,
  },
  {
    name: 'a disabled listener',
    model: udp(pool('ROUND_ROBIN', twoMembers, { health_monitor: monitor('UDP-CONNECT') }), { admin_state_up: false }),
    virtualServers: 0,
    check: null,
  },
  {
    name: 'a disabled pool',
    model: udp(pool('ROUND_ROBIN', twoMembers, { admin_state_up: false, health_monitor: monitor('TCP') })),
    virtualServers: 0,
    check: null,
  },
  {
    name: 'a listener without a pool',
    model: udp(null),
    virtualServers: 0,
    check: null,
  },
  {
    name: 'a pool without members, with a monitor',
    model: udp(pool('ROUND_ROBIN', [], { health_monitor: monitor('UDP-CONNECT') })),
    virtualServers: 0,
    check: null,
  },
  {
    name: 'a pool whose members are all disabled',
    model: sctp(pool('SOURCE_IP', [member(1, '192.0.2.21', 3868, { admin_state_up: false })], { health_monitor: monitor('SCTP') })),
    virtualServers: 0,
    check: null,
  },
];

/** The fixture as the agent's model, after the same shape and rule checks the API applies. */
function modelOf(json: Json): Listener {
  const shape = parseListenerShape(json);
  if (!shape.ok) throw new Error(`fixture is not a listener: ${JSON.stringify(shape.violations)}`);
  const violations = listenerViolations(shape.listener, { udpConnectMinDelay: 3 });
  if (violations.length > 0) throw new Error(`fixture breaks the rules: ${JSON.stringify(violations)}`);
  return shape.listener;
}

// ---------------------------------------------------------------------------------------------
// The same listener as Octavia's templater reads it
// ---------------------------------------------------------------------------------------------

/** What test/support/octavia-render.py takes for `kind: lvs`. */
interface OctaviaLvsSpec {
  readonly kind: 'lvs';
  readonly listener_id: string;
  readonly lb_id: string;
  readonly base_path: string;
  readonly protocol: 'UDP' | 'SCTP';
  readonly vip: string;
  readonly additional_vips: readonly string[];
  readonly port: number;
  readonly listener_enabled: boolean;
  readonly connection_limit: number;
  readonly with_pool: boolean;
  readonly pool_id?: string;
  readonly pool_enabled?: boolean;
  readonly algorithm?: LbAlgorithm;
  readonly session_persistence?: { type: 'SOURCE_IP'; persistence_timeout: number | null; persistence_granularity: string | null } | null;
  readonly members?: readonly {
    id: string;
    address: string;
    port: number;
    weight: number;
    enabled: boolean;
    monitor_address: string | null;
    monitor_port: number | null;
  }[];
  readonly hm_type?: string | null;
  readonly hm_id?: string;
  readonly hm_enabled?: boolean;
  readonly hm_delay?: number;
  readonly hm_timeout?: number;
  readonly hm_max_retries?: number;
  readonly hm_max_retries_down?: number;
  readonly hm_url_path?: string;
  readonly hm_http_method?: string;
  readonly hm_expected_codes?: string;
}

function octaviaSpec(l: Listener, id: string, basePath: string): OctaviaLvsSpec {
  if (l.protocol !== 'UDP' && l.protocol !== 'SCTP') throw new Error(`${l.protocol} is not an LVS protocol`);
  const [vip, ...additional] = l.vip_addresses;
  const common = {
    kind: 'lvs',
    listener_id: id,
    lb_id: l.loadbalancer_id,
    base_path: basePath,
    protocol: l.protocol,
    vip: vip as string,
    additional_vips: additional,
    port: l.protocol_port,
    listener_enabled: l.admin_state_up,
    connection_limit: l.connection_limit,
  } as const;
  const p = l.default_pool;
  if (p === null) return { ...common, with_pool: false };
  const sp = p.session_persistence;
  if (sp !== null && sp.type !== 'SOURCE_IP') throw new Error(`Octavia's LVS template has no ${sp.type} persistence`);
  const hm = p.health_monitor;
  if (hm?.type === 'PING') throw new Error('PING is compared elsewhere: Octavia renders no check for it');
  return {
    ...common,
    with_pool: true,
    pool_id: p.id,
    pool_enabled: p.admin_state_up,
    algorithm: p.lb_algorithm,
    session_persistence: sp && { type: 'SOURCE_IP', persistence_timeout: sp.persistence_timeout ?? null, persistence_granularity: sp.persistence_granularity ?? null },
    members: p.members.map((m) => ({
      id: m.id,
      address: m.address,
      port: m.protocol_port,
      weight: m.weight,
      enabled: m.admin_state_up,
      monitor_address: m.monitor_address ?? null,
      monitor_port: m.monitor_port ?? null,
    })),
    hm_type: hm?.type ?? null,
    ...(hm && {
      hm_id: hm.id,
      hm_enabled: hm.admin_state_up,
      hm_delay: hm.delay,
      hm_timeout: hm.timeout,
      hm_max_retries: hm.max_retries,
      // The agent's model: a monitor without max_retries_down marks a member down after max_retries failures.
      hm_max_retries_down: hm.max_retries_down ?? hm.max_retries,
      // Octavia's API defaults for HTTP monitors: GET /, expecting 200.
      hm_url_path: hm.url_path ?? '/',
      hm_http_method: hm.http_method ?? 'GET',
      hm_expected_codes: hm.expected_codes ?? '200',
    }),
  };
}

async function renderWithOctavia(spec: OctaviaLvsSpec, ns: string): Promise<string> {
  const r = await sh(SYSTEM_PYTHON, [RENDER_SCRIPT], { input: JSON.stringify(spec) });
  if (r.code !== 0) throw new Error(`octavia-render.py failed: ${show(r)}`);
  if (!/^net_namespace amphora-haproxy$/m.test(r.stdout)) throw new Error(`unexpected Octavia LVS render:\n${r.stdout}`);
  return r.stdout.replace(/^net_namespace amphora-haproxy$/m, `net_namespace ${ns}`);
}

/** The IPVS scheduler each renderer picks per algorithm: the agent the weighted ones, Octavia plain lc. */
const OURS: Record<LbAlgorithm, string> = { ROUND_ROBIN: 'wrr', LEAST_CONNECTIONS: 'wlc', SOURCE_IP: 'sh' };
const OCTAVIAS: Record<LbAlgorithm, string> = { ROUND_ROBIN: 'wrr', LEAST_CONNECTIONS: 'lc', SOURCE_IP: 'sh' };

const schedulers = (c: LvsConfig): string[] => [...new Set(c.virtualServers.filter((v) => v.realServers.length > 0).map((v) => v.scheduler ?? '(none)'))];
const checkKinds = (n: NormalizedLvs): string[] => [...new Set(Object.values(n.virtualServers).flatMap((v) => v.realServers.flatMap((r) => r.checks.map((c) => c.kind))))];

// ---------------------------------------------------------------------------------------------

const log = silentLogger();
const runner = new ExecaRunner(log, 60_000);

describe.skipIf(!canRun)('LVS configs: the agent’s render means what Octavia’s does', () => {
  const ns = uniqueName('eq');
  let dir: string;
  let settings: LvsRenderSettings;
  let basePath: string;
  let n = 0;

  /** keepalived --config-test, as the agent runs it on an upload; its words in the error. */
  const accepted = async (who: string, text: string): Promise<void> => {
    const file = join(dir, `render-${++n}.conf`);
    await writeFile(file, text);
    try {
      await validateKeepalivedConfig(runner, KEEPALIVED, file, log);
    } catch (err) {
      const details = err instanceof AgentError ? String(err.details ?? '') : '';
      throw new Error(`keepalived refused ${who} render (${file}): ${String(err)}\n${details}\n--- config\n${text}`);
    }
  };

  beforeAll(async () => {
    await addNetns(ns);
    dir = await mkdtemp(join(tmpdir(), 'aat-eq-'));
    // misc_path must name an existing script, as on an amphora (the agent installs it there).
    basePath = join(dir, 'octavia');
    await mkdir(join(basePath, 'lvs', 'check'), { recursive: true });
    await writeFile(join(basePath, 'lvs', 'check', 'udp_check.sh'), renderUdpCheck(), { mode: 0o755 });
    settings = { namespace: ns, udpCheckScript: join(basePath, 'lvs', 'check', 'udp_check.sh'), sctpCheckCommand: 'amphora-health-checker' };
  });

  afterAll(async () => {
    await deleteNetns(ns);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('has at least 20 fixtures, covering what the issue lists', () => {
    expect(FIXTURES.length).toBeGreaterThanOrEqual(20);
    const models = FIXTURES.map((f) => modelOf(f.model));
    const pools = models.flatMap((l) => (l.default_pool ? [l.default_pool] : []));
    const members = pools.flatMap((p) => p.members);
    const monitors = pools.flatMap((p) => (p.health_monitor ? [p.health_monitor] : []));
    const persistence = pools.flatMap((p) => (p.session_persistence ? [p.session_persistence] : []));
    const families = models.map((l) => [...new Set(l.vip_addresses.map((a) => (a.includes(':') ? 6 : 4)))].sort().join('+'));
    expect(new Set(models.map((l) => l.protocol))).toEqual(new Set(['UDP', 'SCTP']));
    expect(new Set(pools.map((p) => p.lb_algorithm))).toEqual(new Set(['ROUND_ROBIN', 'LEAST_CONNECTIONS', 'SOURCE_IP']));
    expect(members.some((m) => m.weight === 0) && members.some((m) => m.weight > 1)).toBe(true);
    expect(models.some((l) => l.connection_limit > 0) && models.some((l) => l.connection_limit === -1)).toBe(true);
    expect(persistence.some((s) => s.persistence_timeout == null && s.persistence_granularity == null)).toBe(true);
    expect(persistence.some((s) => s.persistence_timeout != null && s.persistence_granularity == null)).toBe(true);
    expect(persistence.some((s) => s.persistence_timeout != null && s.persistence_granularity != null)).toBe(true);
    expect(persistence.some((s) => s.persistence_timeout == null && s.persistence_granularity != null)).toBe(true);
    expect(new Set(families)).toEqual(new Set(['4', '6', '4+6']));
    expect(new Set(monitors.map((h) => h.type))).toEqual(new Set(['UDP-CONNECT', 'TCP', 'HTTP', 'SCTP']));
    const codes = monitors.filter((h) => h.type === 'HTTP').map((h) => h.expected_codes ?? '');
    expect(codes.some((c) => /^\d+$/.test(c)) && codes.some((c) => c.includes(',')) && codes.some((c) => c.includes('-'))).toBe(true);
    expect(members.some((m) => m.monitor_address != null) && members.some((m) => m.monitor_port != null)).toBe(true);
    expect(members.some((m) => !m.admin_state_up)).toBe(true);
    expect(monitors.some((h) => !h.admin_state_up)).toBe(true);
    expect(models.some((l) => !l.admin_state_up)).toBe(true);
    expect(pools.some((p) => !p.admin_state_up)).toBe(true);
    expect(models.some((l) => l.default_pool === null)).toBe(true);
    expect(pools.some((p) => p.members.length === 0)).toBe(true);
  });

  it.each(FIXTURES.map((f, i) => [f.name, f, i] as const))('%s', async (_name, f, i) => {
    const listener = modelOf(f.model);
    const id = listenerId(i + 1);
    const ours = renderLvsConfig(listener, id, settings);
    const theirs = await renderWithOctavia(octaviaSpec(listener, id, basePath), ns);
    const both = `--- agent\n${ours}\n--- octavia\n${theirs}`;

    const [parsedOurs, parsedTheirs] = [parseLvsConfig(ours), parseLvsConfig(theirs)];
    const [normOurs, normTheirs] = [normalizeLvs(parsedOurs), normalizeLvs(parsedTheirs)];
    expect(normOurs, both).toEqual(normTheirs);
    expect(Object.keys(normOurs.virtualServers), both).toHaveLength(f.virtualServers);
    expect(checkKinds(normOurs), both).toEqual(f.check ? [f.check] : []);
    expect(normOurs.namespace).toBe(ns);

    // The schedulers as written: the normalization folds lc into wlc, the agent must use the weighted one.
    const algorithm = listener.default_pool?.lb_algorithm;
    if (algorithm && f.virtualServers > 0) {
      expect(schedulers(parsedOurs)).toEqual([OURS[algorithm]]);
      expect(schedulers(parsedTheirs)).toEqual([OCTAVIAS[algorithm]]);
    }

    await accepted('the agent’s', ours);
    await accepted('Octavia’s', theirs);
  });

  describe('where Octavia’s render is wrong and the agent’s is not', () => {
    it('IPv6 SOURCE_IP persistence without granularity: Octavia writes an IPv4 mask and keepalived drops every real server', async () => {
      const listener = modelOf(
        udp(pool('ROUND_ROBIN', [member(1, '2001:db8::11', 53), member(2, '2001:db8::12', 53)], { session_persistence: { type: 'SOURCE_IP' }, health_monitor: monitor('TCP') }), {
          vip_addresses: ['2001:db8::10'],
        }),
      );
      const id = listenerId(101);
      const ours = renderLvsConfig(listener, id, settings);
      const theirs = await renderWithOctavia(octaviaSpec(listener, id, basePath), ns);
      const vsTheirs = parseLvsConfig(theirs).virtualServers;
      expect(vsTheirs.map((v) => [v.family, v.persistenceGranularity])).toEqual([[6, '255.255.255.255']]);
      await expect(accepted('Octavia’s', theirs)).rejects.toThrow(/Address family of virtual server and real server 2001:db8::11 don't match - skipping real server/);

      const vsOurs = normalizeLvs(parseLvsConfig(ours)).virtualServers;
      expect(Object.values(vsOurs).map((v) => [v.persistence, v.realServers.length])).toEqual([[{ timeout: 360, granularity: '128' }, 2]]);
      await accepted('the agent’s', ours);
    });

    it('an HTTP url path with "&": Octavia HTML-escapes it (autoescape), so keepalived would request /probe?a=1&amp;b=2', async () => {
      const listener = modelOf(udp(pool('ROUND_ROBIN', twoMembers, { health_monitor: monitor('HTTP', { url_path: '/probe?a=1&b=2', expected_codes: '200' }) })));
      const id = listenerId(102);
      const ours = renderLvsConfig(listener, id, settings);
      const theirs = await renderWithOctavia(octaviaSpec(listener, id, basePath), ns);
      const urls = (text: string) => [...new Set(parseLvsConfig(text).virtualServers.flatMap((v) => v.realServers.flatMap((r) => r.checks.flatMap((c) => c.urls ?? []))))];
      expect(urls(ours)).toEqual(['/probe?a=1&b=2 200']);
      expect(urls(theirs)).toEqual(['/probe?a=1&amp;b=2 200']);
      await accepted('the agent’s', ours);
      await accepted('Octavia’s', theirs);
    });
  });
});

// The comparison is only as good as the parser: it must read what keepalived reads, and two
// configs that keepalived turns into different services must not compare equal.
describe('keepalived-lvs-parse', () => {
  const config = (vs: string) => `! a comment\nnet_namespace ns1 # trailing comment\nvirtual_server_group g {\n  192.0.2.1 53\n  192.0.2.2 53\n}\n${vs}`;
  const base = `virtual_server group g {
  lb_algo wlc
  lb_kind NAT
  protocol UDP#P
  persistence_timeout 60
  real_server 192.0.2.12 53 { weight 2 }
  # real_server 192.0.2.99 53 {
  real_server 192.0.2.11 53 {
    weight 1!x
    HTTP_GET {
      url { path /a#b
        status_code 200-202 204 }
      connect_ip 192.0.2.11
      connect_timeout 3
    }
    MISC_CHECK {
      misc_path "/bin/check  192.0.2.11 53"
      misc_timeout 4
    }
  }
}
`;

  it('reads blocks, comments, quoted strings and status code ranges', () => {
    const c = parseLvsConfig(config(base));
    expect(c.namespace).toBe('ns1');
    expect(c.other).toEqual([]);
    const [vs] = c.virtualServers;
    expect(vs?.vips).toEqual(['192.0.2.1:53', '192.0.2.2:53']);
    expect(vs?.realServers.map((r) => [r.address, r.weight])).toEqual([
      ['192.0.2.12', 2],
      ['192.0.2.11', 1],
    ]);
    const checks = vs?.realServers[1]?.checks;
    expect(checks?.[0]).toMatchObject({ kind: 'HTTP_GET', urls: ['/a 200', '/a 201', '/a 202', '/a 204'], connectIp: '192.0.2.11', connectPort: null, timeout: 3 });
    expect(checks?.[1]).toMatchObject({ kind: 'MISC_CHECK', miscPath: ['/bin/check', '192.0.2.11', '53'], timeout: 4 });
  });

  it('folds only the listed equivalences', () => {
    const n = (text: string) => normalizeLvs(parseLvsConfig(config(text)));
    const same = base.replace('lb_algo wlc', 'lb_algo lc').replace('persistence_timeout 60', 'persistence_timeout 60\n  persistence_granularity 255.255.255.255');
    expect(n(same)).toEqual(n(base));
    expect(n(`${base}virtual_server 192.0.2.3 53 {\n  lb_algo wrr\n  protocol UDP\n}\n`)).toEqual(n(base));
    for (const different of [
      base.replace('weight 2', 'weight 3'),
      base.replace('lb_algo wlc', 'lb_algo wrr'),
      base.replace('protocol UDP#P', 'protocol SCTP'),
      base.replace('status_code 200-202 204', 'status_code 200-202'),
      base.replace('persistence_timeout 60', 'persistence_timeout 60\n  persistence_granularity 255.255.255.0'),
      base.replace('misc_timeout 4', 'misc_timeout 4\n      user nobody'),
      base.replace('lb_kind NAT', 'lb_kind NAT\n  quorum 2'),
    ]) {
      expect(n(different), different).not.toEqual(n(base));
    }
  });

  it('refuses unbalanced braces', () => {
    expect(() => parseLvsConfig(config(base.replace(/\}\n$/, '')))).toThrow(/missing '\}'/);
    expect(() => parseLvsConfig(`${config(base)}}\n`)).toThrow(/unexpected '\}'/);
  });
});
