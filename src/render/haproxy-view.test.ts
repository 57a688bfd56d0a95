/**
 * haproxy renderer (render/haproxy-view.ts + templates/haproxy/haproxy.cfg.njk): one golden file
 * per feature of the listener model, each input accepted by the API rules first, and the view
 * builder's own refusal of unsafe values that never went through those rules. Every golden is
 * also run through the real `haproxy -c` (test/integration/haproxy-config-test.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { listenerViolations } from '../model/listener/rules.js';
import type { Uuid } from '../model/uuid.js';
import { listenerSchema, type Listener, type StoredListener } from '../model/listener/schema.js';
import { LB, member, merge } from '../../test/support/listener-fixtures.js';
import { haproxyRenderSettings, type HaproxyRenderSettings } from './haproxy-settings.js';
import { renderHaproxyConfig, toHaproxyView } from './haproxy-view.js';

// what the agent renders with, for the default base_path and administrative_log_facility
const HAPROXY_SETTINGS: HaproxyRenderSettings = haproxyRenderSettings(`/var/lib/octavia/${LB}.sock`, 1, `/var/lib/octavia/${LB}/servers-state`);

type Json = Record<string, unknown>;

const L1 = 'eeeeeeee-0000-0000-0000-0000000000b1';
const L2 = 'eeeeeeee-0000-0000-0000-0000000000b2';
const L3 = 'eeeeeeee-0000-0000-0000-0000000000b3';
const POOL1 = 'bbbbbbbb-0000-0000-0000-0000000000b1';
const POOL2 = 'bbbbbbbb-0000-0000-0000-0000000000b2';
const HM1 = 'cccccccc-0000-0000-0000-0000000000b1';

/** A TCP listener on 203.0.113.10:80, round robin over two members on port 8080, no monitor. */
function tcpBase(): Json {
  return {
    loadbalancer_id: LB,
    vip_addresses: ['203.0.113.10'],
    protocol: 'TCP',
    protocol_port: 80,
    default_pool: { id: POOL1, lb_algorithm: 'ROUND_ROBIN', members: [member(1, { protocol_port: 8080 }), member(2, { protocol_port: 8080 })] },
  };
}

const httpBase = (patch: Json = {}): Json => merge(merge(tcpBase(), { protocol: 'HTTP' }), patch);
const tcp = (patch: Json = {}): Json => merge(tcpBase(), patch);
const monitor = (type: string, extra: Json = {}): Json => ({ default_pool: { health_monitor: { id: HM1, type, delay: 5, timeout: 3, max_retries: 2, ...extra } } });

function parsed(input: Json): Listener {
  const listener = listenerSchema.parse(input);
  // every golden shows an input the API accepts
  expect(listenerViolations(listener, { udpConnectMinDelay: 3 })).toEqual([]);
  return listener;
}

const one = (input: Json): StoredListener[] => [{ id: L1, listener: parsed(input) }];

// [golden name, what it shows, listeners]
const HAPROXY_FEATURES: [string, string, () => StoredListener[]][] = [
  ['tcp-round-robin', 'TCP listener → mode tcp, ROUND_ROBIN → roundrobin, no monitor: no checks', () => one(tcp())],
  ['http-round-robin', 'HTTP listener → mode http', () => one(httpBase())],
  ['least-connections', 'LEAST_CONNECTIONS → leastconn', () => one(tcp({ default_pool: { lb_algorithm: 'LEAST_CONNECTIONS' } }))],
  ['source-algorithm', 'SOURCE_IP algorithm → balance source', () => one(tcp({ default_pool: { lb_algorithm: 'SOURCE_IP' } }))],
  ['connection-limit', 'connection_limit → frontend maxconn', () => one(tcp({ connection_limit: 1000 }))],
  ['timeouts', 'timeout_client_data, timeout_member_connect, timeout_member_data (ms)', () => one(tcp({ timeout_client_data: 30000, timeout_member_connect: 1500, timeout_member_data: 45000 }))],
  ['weights', 'member weights, including 0 (drained)', () => one(tcp({ default_pool: { members: [member(1, { weight: 10 }), member(2, { weight: 0 }), member(3, { weight: 256 })] } }))],
  ['disabled-member', 'a disabled member is a server in maintenance (disabled), as Octavia renders it', () => one(tcp({ default_pool: { members: [member(1, { admin_state_up: false }), member(2)] } }))],
  ['monitor-tcp', 'TCP monitor → check inter/fall/rise, timeout check', () => one(tcp(monitor('TCP')))],
  ['monitor-max-retries-down', 'max_retries_down → fall, max_retries → rise', () => one(tcp(monitor('TCP', { max_retries: 3, max_retries_down: 7 })))],
  [
    'monitor-address-port',
    'monitor_address and monitor_port → addr and port on the check',
    () => one(tcp(merge(monitor('TCP'), { default_pool: { members: [member(1, { monitor_address: '192.0.2.111', monitor_port: 9000 }), member(2, { monitor_port: 9001 })] } }))),
  ],
  ['monitor-disabled', 'a disabled monitor renders no checks', () => one(tcp(monitor('TCP', { admin_state_up: false })))],
  ['monitor-http', 'HTTP monitor with defaults → GET /, expect status 200', () => one(httpBase(monitor('HTTP')))],
  [
    'monitor-http-method-path',
    'HTTP monitor with a method and a url_path holding ?, &, ; and %',
    () => one(httpBase(monitor('HTTP', { http_method: 'HEAD', url_path: '/healthz?full=1&x=a;b%20c', expected_codes: '204' }))),
  ],
  ['monitor-http-list', 'expected_codes as a list → expect status 200,202,204', () => one(httpBase(monitor('HTTP', { expected_codes: '200,202,204' })))],
  ['monitor-http-range', 'expected_codes as a range → expect status 200-299', () => one(httpBase(monitor('HTTP', { url_path: '/status', expected_codes: '200-299' })))],
  ['monitor-http-on-tcp', 'an HTTP monitor on a TCP pool', () => one(tcp(monitor('HTTP', { url_path: '/ping' })))],
  ['persistence-source-ip', 'SOURCE_IP persistence → stick-table type ip + stick on src', () => one(tcp({ default_pool: { session_persistence: { type: 'SOURCE_IP' } } }))],
  [
    'persistence-source-ip-timeout',
    'SOURCE_IP persistence with persistence_timeout → expire',
    () => one(tcp({ default_pool: { session_persistence: { type: 'SOURCE_IP', persistence_timeout: 120 } } })),
  ],
  ['persistence-http-cookie', 'HTTP_COOKIE → cookie SRV insert, a cookie per member id', () => one(httpBase({ default_pool: { session_persistence: { type: 'HTTP_COOKIE' } } }))],
  ['persistence-app-cookie', 'APP_COOKIE → stick on the named cookie', () => one(httpBase({ default_pool: { session_persistence: { type: 'APP_COOKIE', cookie_name: 'JSESSIONID' } } }))],
  [
    'insert-headers',
    'X-Forwarded-For → option forwardfor; X-Forwarded-Port and -Proto → set-header',
    () => one(httpBase({ insert_headers: { 'X-Forwarded-For': 'true', 'X-Forwarded-Port': 'true', 'X-Forwarded-Proto': 'true' } })),
  ],
  ['insert-headers-false', 'insert_headers set to "false" insert nothing', () => one(httpBase({ insert_headers: { 'X-Forwarded-For': 'false', 'X-Forwarded-Port': 'false' } }))],
  ['no-pool', 'a listener without a pool → a frontend without a backend', () => one(tcp({ default_pool: null }))],
  ['disabled-pool', 'a disabled pool → a frontend without a backend', () => one(httpBase({ default_pool: { admin_state_up: false } }))],
  ['disabled-listener', 'a disabled listener renders no frontend; the stats socket keeps haproxy idle', () => one(tcp({ admin_state_up: false }))],
  [
    'ipv6',
    'IPv6 VIP and members → bracketed addresses, stick-table type ipv6',
    () =>
      one(
        tcp(
          merge(monitor('TCP'), {
            vip_addresses: ['2001:db8::10'],
            default_pool: {
              session_persistence: { type: 'SOURCE_IP' },
              members: [member(1, { address: '2001:db8::11', monitor_address: '2001:db8::111' }), member(2, { address: '2001:db8::12' })],
            },
          }),
        ),
      ),
  ],
  [
    'dual-stack',
    'IPv4 and IPv6 VIPs on one frontend, members of both families',
    () => one(httpBase({ vip_addresses: ['203.0.113.10', '2001:db8::10'], default_pool: { members: [member(1), member(2, { address: '2001:db8::12' })] } })),
  ],
  [
    'several-listeners',
    'three listeners of one load balancer in one config: TCP, HTTP and a disabled one, sorted by id',
    () => [
      { id: L3, listener: parsed(tcp({ admin_state_up: false, protocol_port: 8443 })) },
      { id: L2, listener: parsed(httpBase(merge(monitor('HTTP'), { protocol_port: 8080, default_pool: { id: POOL2 }, connection_limit: 200 }))) },
      { id: L1, listener: parsed(tcp()) },
    ],
  ],
  ['no-listeners', 'a load balancer without listeners: global, defaults and the stats socket', () => []],
];

describe('haproxy config (golden files)', () => {
  it.each(HAPROXY_FEATURES)('%s: %s', async (name, _what, listeners) => {
    await expect(renderHaproxyConfig(LB, listeners(), HAPROXY_SETTINGS)).toMatchFileSnapshot(`__golden__/haproxy-${name}.cfg`);
  });

  it('sums the frontends\' maxconn into the global one when told to (Octavia\'s way)', async () => {
    const listeners = [
      { id: L1, listener: parsed(tcp({ connection_limit: 1000 })) },
      { id: L2, listener: parsed(tcp({ protocol_port: 81 })) },
    ];
    await expect(renderHaproxyConfig(LB, listeners, { ...HAPROXY_SETTINGS, globalMaxconn: 'sum' })).toMatchFileSnapshot('__golden__/haproxy-global-maxconn-sum.cfg');
    expect(renderHaproxyConfig(LB, [], { ...HAPROXY_SETTINGS, globalMaxconn: 'sum' })).toMatch(/^ {4}maxconn 50000$/m);
  });

  it('renders without logging and without dropping privileges when the settings say so', async () => {
    const text = renderHaproxyConfig(LB, one(tcp()), { ...HAPROXY_SETTINGS, log: null, user: null, group: null });
    expect(text).not.toMatch(/^\s*(?:log|user|group)\b/m);
    expect(text).not.toMatch(/^\s*daemon\b/m);
  });

  it("keeps server states across reloads as Octavia's config does: the file in global, loaded by health-checked backends only; none without a file", () => {
    const listeners = [
      { id: L1, listener: parsed(tcp(monitor('TCP'))) },
      { id: L2, listener: parsed(merge(tcp({ protocol_port: 81 }), { default_pool: { id: POOL2 } })) },
    ];
    const text = renderHaproxyConfig(LB, listeners, HAPROXY_SETTINGS);
    expect(text).toContain(`    server-state-file /var/lib/octavia/${LB}/servers-state\n`);
    expect(text.match(/load-server-state-from-file global/g)).toHaveLength(1);
    expect(text).toMatch(new RegExp(`backend ${POOL1}:${L1}\\n(?:.*\\n)*?    load-server-state-from-file global\\n`));
    const without = renderHaproxyConfig(LB, listeners, { ...HAPROXY_SETTINGS, serverStateFile: null });
    expect(without).not.toMatch(/server-state/);
  });

  it('logs to a syslog socket without format raw', () => {
    const text = renderHaproxyConfig(LB, one(tcp()), { ...HAPROXY_SETTINGS, log: { target: '/dev/log', facility: 0, maxLevel: 'info' } });
    expect(text).toContain('    log /dev/log local0 info\n');
  });
});

describe('values that slipped past the rules', () => {
  const base = () => parsed(httpBase(monitor('HTTP')));
  const render = (listener: Listener) => () => toHaproxyView(LB, [{ id: L1, listener }], HAPROXY_SETTINGS);
  const withPool = (l: Listener, pool: Partial<NonNullable<Listener['default_pool']>>): Listener => ({ ...l, default_pool: { ...l.default_pool!, ...pool } });
  const withMonitor = (l: Listener, hm: Partial<NonNullable<NonNullable<Listener['default_pool']>['health_monitor']>>): Listener =>
    withPool(l, { health_monitor: { ...l.default_pool!.health_monitor!, ...hm } });

  it('refuses a url_path with a newline that would add a directive', () => {
    expect(render(withMonitor(base(), { url_path: '/x\n    server evil 198.51.100.1:80' }))).toThrow(/url path is not safe/);
  });

  it('refuses expected codes that are not codes', () => {
    expect(render(withMonitor(base(), { expected_codes: '200\nstats enable' }))).toThrow(/expected codes/);
  });

  it('refuses an unsafe cookie name, member id, VIP or stats socket', () => {
    expect(render(withPool(base(), { session_persistence: { type: 'APP_COOKIE', cookie_name: 'a b' } }))).toThrow(/cookie name/);
    const l = base();
    expect(render(withPool(l, { members: [{ ...l.default_pool!.members[0]!, id: 'x\ny' as Uuid }] }))).toThrow(/member id/);
    expect(render({ ...l, vip_addresses: ['203.0.113.10:81'] })).toThrow(/VIP address/);
    expect(() => toHaproxyView(LB, [], { ...HAPROXY_SETTINGS, statsSocket: '/tmp/a sock' })).toThrow(/stats socket/);
    expect(() => toHaproxyView(LB, [], { ...HAPROXY_SETTINGS, serverStateFile: '/tmp/a\nstats socket /tmp/x' })).toThrow(/server state file/);
  });

  it('refuses numbers that are not integers', () => {
    expect(render({ ...base(), timeout_client_data: 1.5 })).toThrow(/timeout_client_data/);
    expect(render(withMonitor(base(), { delay: Number.NaN }))).toThrow(/monitor delay/);
  });

  it('refuses what haproxy cannot serve: UDP listeners, PING monitors, cookies on TCP', () => {
    expect(render({ ...base(), protocol: 'UDP' })).toThrow(/UDP listeners are not served by haproxy/);
    expect(render(withMonitor(base(), { type: 'PING' }))).toThrow(/PING cannot be rendered/);
    const t = parsed(tcp());
    expect(render(withPool(t, { session_persistence: { type: 'HTTP_COOKIE' } }))).toThrow(/needs an HTTP listener/);
  });

  it('refuses two listeners on one address and port, a listener given twice, and one of another load balancer', () => {
    const l = parsed(tcp());
    expect(() => toHaproxyView(LB, [{ id: L1, listener: l }, { id: L2, listener: l }], HAPROXY_SETTINGS)).toThrow(/bound by two listeners/);
    expect(() => toHaproxyView(LB, [{ id: L1, listener: l }, { id: L1, listener: l }], HAPROXY_SETTINGS)).toThrow(/given twice/);
    expect(() => toHaproxyView('aaaaaaaa-0000-0000-0000-00000000ffff', [{ id: L1, listener: l }], HAPROXY_SETTINGS)).toThrow(/belongs to load balancer/);
  });
});
