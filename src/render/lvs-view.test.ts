/**
 * keepalived LVS renderer (render/lvs-view.ts + templates/keepalived/lvs.conf.njk): one golden
 * file per feature of the listener model, and the view builder's own refusal of unsafe values
 * that never went through the API rules. Every golden is also run through the real
 * `keepalived --config-test` (test/integration/lvs-goldens-config-test.test.ts).
 */
import { describe, expect, it } from 'vitest';
import type { Uuid } from '../model/uuid.js';
import { HM, LB, member, merge, POOL } from '../../test/support/listener-fixtures.js';
import type { Listener } from '../model/listener/schema.js';
import { renderLvsConfig, toLvsView, type LvsRenderSettings } from './lvs-view.js';
import { LISTENER, listener, monitor, settings, type Json } from '../../test/support/lvs-render-fixtures.js';

const withMonitor = (type: string, extra: Json = {}): Json => monitor({ type, ...extra });
const sctp = (patch: Json = {}): Json => merge({ protocol: 'SCTP', protocol_port: 2905, default_pool: { health_monitor: { type: 'SCTP' } } }, patch);
const v6member = (n: number, extra: Json = {}): Json => member(n, { address: `2001:db8::${10 + n}`, ...extra });

// [golden name, what it shows, listener patch]
const features: [string, string, Json][] = [
  ['udp-round-robin', 'UDP, ROUND_ROBIN → wrr, UDP-CONNECT monitor (UDP_CHECK sending one X)', {}],
  ['sctp', 'SCTP with an SCTP monitor (amphora-health-checker, misc_timeout one more than timeout)', sctp()],
  ['least-connections', 'LEAST_CONNECTIONS → wlc', { default_pool: { lb_algorithm: 'LEAST_CONNECTIONS' } }],
  ['source-ip-algorithm', 'SOURCE_IP algorithm → sh', { default_pool: { lb_algorithm: 'SOURCE_IP' } }],
  [
    'source-ip-persistence',
    'SOURCE_IP persistence with timeout and granularity',
    { default_pool: { session_persistence: { type: 'SOURCE_IP', persistence_timeout: 60, persistence_granularity: '255.255.255.0' } } },
  ],
  ['source-ip-persistence-default', 'SOURCE_IP persistence without a timeout → 360 s, no granularity', { default_pool: { session_persistence: { type: 'SOURCE_IP' } } }],
  ['one-packet-scheduling', 'ONE_PACKET_SCHEDULING → ops', { default_pool: { session_persistence: { type: 'ONE_PACKET_SCHEDULING' } } }],
  ['monitor-udp-connect', 'UDP-CONNECT monitor with max_retries only', withMonitor('UDP-CONNECT', { delay: 10, timeout: 4, max_retries: 2 })],
  [
    'monitor-udp-connect-address-port',
    'UDP-CONNECT on members with their own monitor_address and monitor_port',
    merge(withMonitor('UDP-CONNECT'), { default_pool: { members: [member(1, { monitor_address: '192.0.2.111', monitor_port: 5400 }), member(2, { monitor_port: 5401 })] } }),
  ],
  ['monitor-tcp', 'TCP monitor → TCP_CHECK', withMonitor('TCP')],
  ['monitor-http', 'HTTP monitor with defaults → GET / expecting 200', withMonitor('HTTP')],
  ['monitor-http-list', 'HTTP monitor with a list of codes and a url_path', withMonitor('HTTP', { http_method: 'GET', url_path: '/healthz?full=1&x=a;b', expected_codes: '200,202,204' })],
  ['monitor-http-range', 'HTTP monitor with a range of codes', withMonitor('HTTP', { url_path: '/status', expected_codes: '200-204' })],
  ['monitor-ping', 'PING monitor → PING_CHECK', withMonitor('PING')],
  ['monitor-sctp-tcp', 'SCTP listener with a TCP monitor', sctp(withMonitor('TCP'))],
  [
    'monitor-address-port',
    'members with their own monitor_address and monitor_port',
    merge(withMonitor('TCP'), { default_pool: { members: [member(1, { monitor_address: '192.0.2.111', monitor_port: 8080 }), member(2, { monitor_port: 9090 })] } }),
  ],
  ['max-retries-down', 'max_retries_down wins over max_retries for retry', monitor({ max_retries: 3, max_retries_down: 7 })],
  ['connection-limit', 'connection_limit → uthreshold on every real server', { connection_limit: 100 }],
  ['weights', 'member weights, including 0 (drained)', { default_pool: { members: [member(1, { weight: 10 }), member(2, { weight: 0 }), member(3, { weight: 256 })] } }],
  ['disabled-member', 'a disabled member is left out', { default_pool: { members: [member(1, { admin_state_up: false }), member(2)] } }],
  ['disabled-monitor', 'a disabled monitor renders no checks and no timers', monitor({ admin_state_up: false })],
  ['disabled-listener', 'a disabled listener renders no virtual server', { admin_state_up: false }],
  ['disabled-pool', 'a disabled pool renders no virtual server', { default_pool: { admin_state_up: false } }],
  ['no-pool', 'a listener without a pool renders no virtual server', { default_pool: null }],
  ['no-members', 'a pool without members renders a virtual server without real servers', { default_pool: { members: [] } }],
  ['no-monitor', 'a pool without a monitor renders no checks and no timers', { default_pool: { health_monitor: null } }],
  ['ipv6', 'IPv6 VIP and members', { vip_addresses: ['2001:db8::1'], default_pool: { members: [v6member(1), v6member(2)] } }],
  [
    'ipv6-persistence',
    'IPv6 SOURCE_IP persistence: granularity is a prefix length',
    {
      vip_addresses: ['2001:db8::1'],
      default_pool: { members: [v6member(1)], session_persistence: { type: 'SOURCE_IP', persistence_timeout: 120, persistence_granularity: '64' } },
    },
  ],
  [
    'dual-stack',
    'IPv4 and IPv6 VIPs, members of both families: one virtual server per family',
    {
      vip_addresses: ['203.0.113.10', '2001:db8::1', '198.51.100.10'],
      connection_limit: 50,
      default_pool: { members: [member(1), v6member(2), member(3, { admin_state_up: false }), v6member(4, { weight: 5 })] },
    },
  ],
  ['dual-stack-http', 'dual stack with an HTTP monitor on an SCTP listener', sctp({ vip_addresses: ['203.0.113.10', '2001:db8::1'], default_pool: { members: [member(1), v6member(2)], health_monitor: { type: 'HTTP', url_path: '/' } } })],
  [
    'limits-sctp',
    "the largest values the rules allow, within keepalived's ranges: SCTP check timeout 4293 (misc_timeout 4294)",
    sctp({
      protocol_port: 65535,
      connection_limit: 1000000,
      default_pool: {
        lb_algorithm: 'SOURCE_IP',
        members: [member(1, { protocol_port: 65535, weight: 256 })],
        session_persistence: { type: 'SOURCE_IP', persistence_timeout: 2678400, persistence_granularity: '255.255.255.255' },
        health_monitor: { delay: 2147483647, timeout: 4293, max_retries: 10, max_retries_down: 10 },
      },
    }),
  ],
  [
    'limits-http',
    "the largest values the rules allow for connect_timeout, and the widest range of codes",
    merge(withMonitor('HTTP', { delay: 2147483647, timeout: 4293, max_retries: 1, expected_codes: '100-599' }), {
      vip_addresses: ['2001:db8::1'],
      default_pool: { members: [v6member(1, { protocol_port: 1, weight: 1, monitor_port: 65535 })], session_persistence: { type: 'SOURCE_IP', persistence_granularity: '128' } },
    }),
  ],
];

describe('keepalived LVS config (golden files)', () => {
  it.each(features)('%s: %s', async (name, _what, patch) => {
    await expect(renderLvsConfig(listener(patch), LISTENER, settings)).toMatchFileSnapshot(`./__golden__/lvs-${name}.conf`);
  });

  it('has one golden per feature, each a distinct config but for a disabled monitor, which renders as none', () => {
    const texts = new Map(features.map(([name, , patch]) => [name, renderLvsConfig(listener(patch), LISTENER, settings)]));
    expect(texts.size).toBe(features.length);
    expect(texts.get('disabled-monitor')).toBe(texts.get('no-monitor'));
    expect(new Set(texts.values()).size).toBe(features.length - 1);
  });
});

describe('the mapping, in the view', () => {
  it('maps delay, max_retries(_down) and timeout', () => {
    const view = toLvsView(listener(monitor({ type: 'TCP', delay: 9, timeout: 4, max_retries: 2, max_retries_down: 6 })), LISTENER, settings);
    const [vs] = view.virtualServers;
    expect(vs?.timers).toEqual({ delayLoop: 9, delayBeforeRetry: 9, retry: 6 });
    expect(vs?.realServers[0]?.check).toEqual({ kind: 'TCP_CHECK', ip: '192.0.2.11', port: 5353, timeout: 4 });
    expect(toLvsView(listener(monitor({ max_retries: 2 })), LISTENER, settings).virtualServers[0]?.timers?.retry).toBe(2);
  });

  it('renders UDP-CONNECT as keepalived\'s UDP_CHECK sending one "X", with no script to fork', () => {
    const view = toLvsView(listener(monitor({ type: 'UDP-CONNECT', delay: 5, timeout: 3, max_retries: 2 })), LISTENER, settings);
    const checks = view.virtualServers.flatMap((vs) => vs.realServers.map((rs) => rs.check));
    expect(checks.length).toBeGreaterThan(0);
    for (const c of checks) expect(c).toMatchObject({ kind: 'UDP_CHECK', port: 5353, timeout: 3, payload: '58' });
    expect(Buffer.from('58', 'hex').toString()).toBe('X');
    const text = renderLvsConfig(listener(monitor({ type: 'UDP-CONNECT' })), LISTENER, settings);
    expect(text).not.toMatch(/MISC_CHECK|misc_path|udp_check\.sh/);
    expect(text).toMatch(/UDP_CHECK \{\n\s+connect_ip 192\.0\.2\.11\n\s+connect_port 5353\n\s+connect_timeout \d+\n\s+payload 58\n\s+\}/);
  });

  it('maps the algorithms to the weighted schedulers', () => {
    const scheduler = (lb_algorithm: string) => toLvsView(listener({ default_pool: { lb_algorithm } }), LISTENER, settings).virtualServers[0]?.scheduler;
    expect(['ROUND_ROBIN', 'LEAST_CONNECTIONS', 'SOURCE_IP'].map(scheduler)).toEqual(['wrr', 'wlc', 'sh']);
  });

  it('says why it is idle and keeps ids only where they are rendered', () => {
    expect(toLvsView(listener({ admin_state_up: false }), LISTENER, settings)).toMatchObject({ idleReason: 'the listener is disabled', virtualServers: [] });
    expect(toLvsView(listener({ default_pool: null }), LISTENER, settings)).toMatchObject({ idleReason: 'the listener has no pool', poolId: null, monitorId: null });
    expect(toLvsView(listener({ default_pool: { admin_state_up: false } }), LISTENER, settings)).toMatchObject({ idleReason: 'the pool is disabled', poolId: POOL });
    expect(toLvsView(listener(), LISTENER, settings)).toMatchObject({ idleReason: null, loadBalancerId: LB, poolId: POOL, monitorId: HM });
  });
});

describe('toLvsView refuses unsafe values handed to it directly (bypassing the rules)', () => {
  /** A valid listener, then `mutate` writes past the schema and rules. */
  const raw = (mutate: (l: Listener) => void, patch: Json = {}): Listener => {
    const l = structuredClone(listener(patch));
    mutate(l);
    return l;
  };
  /** An id the schema would never have let through. */
  const forged = (s: string) => s as Uuid;
  const pool = (l: Listener) => l.default_pool!;
  const hm = (l: Listener) => l.default_pool!.health_monitor!;

  // [what, listener, listener id, settings, error]
  const unsafe: [string, Listener, string, LvsRenderSettings, RegExp][] = [
    ['a newline in url_path', raw((l) => void (hm(l).url_path = '/x\n}\nvirtual_server 1.2.3.4 53 {'), withMonitor('HTTP')), LISTENER, settings, /url path is not safe/],
    ['a space in url_path', raw((l) => void (hm(l).url_path = '/a b'), withMonitor('HTTP')), LISTENER, settings, /url path is not safe/],
    ['a $ in url_path', raw((l) => void (hm(l).url_path = '/${x}'), withMonitor('HTTP')), LISTENER, settings, /url path is not safe/],
    ['a # in url_path', raw((l) => void (hm(l).url_path = '/#'), withMonitor('HTTP')), LISTENER, settings, /url path is not safe/],
    ['a quote in url_path', raw((l) => void (hm(l).url_path = '/"'), withMonitor('HTTP')), LISTENER, settings, /url path is not safe/],
    ['a space in expected_codes', raw((l) => void (hm(l).expected_codes = '200 }'), withMonitor('HTTP')), LISTENER, settings, /expected codes is not a safe/],
    ['a newline in expected_codes', raw((l) => void (hm(l).expected_codes = '200\nretry 1'), withMonitor('HTTP')), LISTENER, settings, /expected codes is not a safe/],
    ['a quote in a member address', raw((l) => void (pool(l).members[0]!.address = '192.0.2.11"')), LISTENER, settings, /member address is not a safe/],
    ['a newline in a member address', raw((l) => void (pool(l).members[0]!.address = '192.0.2.11\n}'), monitor({ type: 'TCP' })), LISTENER, settings, /member address is not a safe/],
    ['a quote in a monitor address', raw((l) => void (pool(l).members[0]!.monitor_address = '192.0.2.1" x')), LISTENER, settings, /member monitor address is not a safe/],
    ['a brace in a VIP', raw((l) => void (l.vip_addresses[0] = '203.0.113.10}')), LISTENER, settings, /VIP address is not a safe/],
    ['a brace in persistence_granularity', raw((l) => void (pool(l).session_persistence!.persistence_granularity = '255.255.255.0}'), { default_pool: { session_persistence: { type: 'SOURCE_IP' } } }), LISTENER, settings, /persistence granularity is not a safe/],
    ['a newline in persistence_granularity', raw((l) => void (pool(l).session_persistence!.persistence_granularity = '24\nlb_kind DR'), { default_pool: { session_persistence: { type: 'SOURCE_IP' } } }), LISTENER, settings, /persistence granularity is not a safe/],
    ['a space in a member id', raw((l) => void (pool(l).members[1]!.id = forged('a b'))), LISTENER, settings, /member id is not a safe/],
    ['a newline in the pool id', raw((l) => void (pool(l).id = forged('p\nnet_namespace x'))), LISTENER, settings, /pool id is not a safe/],
    ['a newline in the monitor id', raw((l) => void (hm(l).id = forged('m\n}'))), LISTENER, settings, /monitor id is not a safe/],
    ['a newline in the load balancer id', raw((l) => void (l.loadbalancer_id = forged('lb\n}'))), LISTENER, settings, /load balancer id is not a safe/],
    ['a control character in the listener id', listener(), 'eeeeeeee\u0007', settings, /listener id is not a safe/],
    ['a space in the namespace', listener(), LISTENER, { ...settings, namespace: 'amphora haproxy' }, /namespace is not a safe/],
    ['a quote in the SCTP check command', listener(sctp()), LISTENER, { ...settings, sctpCheckCommand: '/usr/bin/x"' }, /sctp check command is not a safe/],
    ['a fraction as a port', raw((l) => void (pool(l).members[0]!.protocol_port = 53.5)), LISTENER, settings, /member port is not an integer/],
  ];

  it.each(unsafe)('%s', (_what, l, id, s, error) => {
    expect(() => toLvsView(l, id, s)).toThrow(error);
    expect(() => renderLvsConfig(l, id, s)).toThrow(error);
  });
});
