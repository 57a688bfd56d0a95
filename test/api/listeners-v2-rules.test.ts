/**
 * API 2.0: every rule of the listener model (src/model/listener/rules.ts) and the shape
 * (schema.ts) answered with a 400 that names each violation's JSON path and message, over
 * createApp with the fake runner and init (test/support/api-app). Each case starts from the valid
 * UDP listener of test/support/listener-fixtures (or its SCTP/HTTP variant) and breaks exactly
 * one rule; a refused listener installs nothing: no config file, no unit, no keepalived call.
 * Then every string that reaches a config file, with characters that could add a directive.
 */
import { existsSync } from 'node:fs';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { listenerViolations } from '../../src/model/listener/rules.js';
import { parseListenerShape } from '../../src/model/listener/schema.js';
import type { Violation } from '../../src/model/listener/violations.js';
import type { Uuid } from '../../src/model/uuid.js';
import { apiApp } from '../support/api-app.js';
import { member, merge, udpListener } from '../support/listener-fixtures.js';

const L1 = 'eeeeeeee-0000-0000-0000-000000000011' as Uuid;
type Json = Record<string, unknown>;
type App = Awaited<ReturnType<typeof apiApp>>;

const HM_AT = '$.default_pool.health_monitor';
const SP_AT = '$.default_pool.session_persistence';
const MEMBERS_AT = '$.default_pool.members';

// ------------------------------------------------------------------------------------------
// Listeners to derive cases from
// ------------------------------------------------------------------------------------------

const udp = (patch: Json = {}): Json => merge(udpListener(), patch);
/** SCTP on 2905 with an SCTP monitor. */
const sctp = (patch: Json = {}): Json => merge(udp({ protocol: 'SCTP', protocol_port: 2905, default_pool: { health_monitor: { type: 'SCTP' } } }), patch);
/** HTTP (haproxy) on 80 with an HTTP monitor: the only protocol that takes cookie persistence. */
const http = (patch: Json = {}): Json => merge(udp({ protocol: 'HTTP', protocol_port: 80, default_pool: { health_monitor: { type: 'HTTP' } } }), patch);
const monitor = (patch: Json) => ({ default_pool: { health_monitor: patch } });
const persistence = (sp: Json) => ({ default_pool: { session_persistence: sp } });
const members = (...list: Json[]) => ({ default_pool: { members: list } });
const v6 = (n: number, extra: Json = {}) => member(n, { address: `2001:db8::${10 + n}`, ...extra });
/** The fixture's members moved to an IPv6 VIP. */
const ipv6 = (patch: Json = {}): Json => merge(udp({ vip_addresses: ['2001:db8::1'], ...members(v6(1), v6(2)) }), patch);
const dualStack = (patch: Json = {}): Json => merge(udp({ vip_addresses: ['203.0.113.10', '2001:db8::1'] }), patch);

const one = (path: string, message: string): Violation[] => [{ path, message }];

// ------------------------------------------------------------------------------------------
// Helpers: a refused request and what it must not have done
// ------------------------------------------------------------------------------------------

async function refused(t: App, body: unknown): Promise<Violation[]> {
  const res = await request(t.app).put(`/2.0/listeners/${L1}`).send(JSON.stringify(body)).expect(400);
  expect(res.body).toMatchObject({ code: 'invalid_input', message: 'Invalid listener' });
  // `details` repeats the violations one per line for plain clients
  expect(res.body.details).toBe((res.body.violations as Violation[]).map((v) => `${v.path}: ${v.message}`).join('\n'));
  await expectNothingInstalled(t);
  return res.body.violations as Violation[];
}

async function expectNothingInstalled(t: App): Promise<void> {
  expect(existsSync(t.paths.lvsConfig(L1))).toBe(false);
  expect(t.init.calls).toEqual([]);
  // refused before rendering: keepalived was never asked
  expect(t.runner.calls.some((c) => c.includes('--config-test'))).toBe(false);
  await request(t.app).get(`/2.0/listeners/${L1}`).expect(404);
}

const accepted = async (t: App, body: unknown) => request(t.app).post(`/2.0/listeners/${L1}/validate`).send(JSON.stringify(body)).expect(200);

// ------------------------------------------------------------------------------------------
// The rules
// ------------------------------------------------------------------------------------------

const NETMASK = 'must be a netmask for every VIP: a contiguous dotted mask for IPv4 (255.255.255.0), a prefix length 1-128 for IPv6';
const URL_PATH = 'must start with / and hold only letters, digits and ._~%/:@=+,;&?-';
const EXPECTED_CODES = 'must be a code (200), a list (200,202) or a range (200-204) of codes 100-599';
const COOKIE = 'must be 1-64 letters, digits, _ or -';
const UDP_MONITORS = 'allowed: UDP-CONNECT, TCP, HTTP, PING';
const SCTP_MONITORS = 'allowed: SCTP, TCP, HTTP, PING';

// [rule broken, listener, exact violations]
const layer4: [string, Json, Violation[]][] = [
  ['UDP: L7 policies', udp({ l7policies: [{ action: 'REJECT' }] }), one('$.l7policies', 'UDP listeners cannot have L7 policies')],
  ['SCTP: L7 policies', sctp({ l7policies: [{ action: 'REJECT' }] }), one('$.l7policies', 'SCTP listeners cannot have L7 policies')],
  ['UDP: insert_headers', udp({ insert_headers: { 'X-Forwarded-For': 'true' } }), one('$.insert_headers', 'UDP listeners cannot insert headers')],
  ['SCTP: insert_headers', sctp({ insert_headers: { 'X-Forwarded-Port': 'true' } }), one('$.insert_headers', 'SCTP listeners cannot insert headers')],
  ['UDP listener TLS: default_tls_container_ref', udp({ default_tls_container_ref: 'https://barbican/v1/containers/x' }), one('$.default_tls_container_ref', 'UDP listeners cannot use TLS')],
  ['UDP listener TLS: sni_container_refs', udp({ sni_container_refs: ['https://barbican/v1/containers/x'] }), one('$.sni_container_refs', 'UDP listeners cannot use TLS')],
  ['UDP listener TLS: client_ca_tls_container_ref', udp({ client_ca_tls_container_ref: 'ca' }), one('$.client_ca_tls_container_ref', 'UDP listeners cannot use TLS')],
  ['UDP listener TLS: client_crl_container_ref', udp({ client_crl_container_ref: 'crl' }), one('$.client_crl_container_ref', 'UDP listeners cannot use TLS')],
  ['UDP listener TLS: client_authentication', udp({ client_authentication: 'MANDATORY' }), one('$.client_authentication', 'UDP listeners cannot use TLS')],
  ['UDP listener TLS: tls_ciphers', udp({ tls_ciphers: 'ECDHE-RSA-AES256-GCM-SHA384' }), one('$.tls_ciphers', 'UDP listeners cannot use TLS')],
  ['UDP listener TLS: tls_versions', udp({ tls_versions: ['TLSv1.3'] }), one('$.tls_versions', 'UDP listeners cannot use TLS')],
  ['UDP listener TLS: alpn_protocols', udp({ alpn_protocols: ['h2'] }), one('$.alpn_protocols', 'UDP listeners cannot use TLS')],
  ['SCTP listener TLS: default_tls_container_ref', sctp({ default_tls_container_ref: 'x' }), one('$.default_tls_container_ref', 'SCTP listeners cannot use TLS')],
  ['UDP pool TLS: tls_enabled', udp({ default_pool: { tls_enabled: true } }), one('$.default_pool.tls_enabled', 'UDP pools cannot use TLS')],
  ['UDP pool TLS: tls_container_ref', udp({ default_pool: { tls_container_ref: 'x' } }), one('$.default_pool.tls_container_ref', 'UDP pools cannot use TLS')],
  ['UDP pool TLS: ca_tls_container_ref', udp({ default_pool: { ca_tls_container_ref: 'x' } }), one('$.default_pool.ca_tls_container_ref', 'UDP pools cannot use TLS')],
  ['UDP pool TLS: crl_container_ref', udp({ default_pool: { crl_container_ref: 'x' } }), one('$.default_pool.crl_container_ref', 'UDP pools cannot use TLS')],
  ['UDP pool TLS: tls_ciphers', udp({ default_pool: { tls_ciphers: 'ECDHE' } }), one('$.default_pool.tls_ciphers', 'UDP pools cannot use TLS')],
  ['UDP pool TLS: tls_versions', udp({ default_pool: { tls_versions: ['TLSv1.2'] } }), one('$.default_pool.tls_versions', 'UDP pools cannot use TLS')],
  ['UDP pool TLS: alpn_protocols', udp({ default_pool: { alpn_protocols: ['http/1.1'] } }), one('$.default_pool.alpn_protocols', 'UDP pools cannot use TLS')],
  ['SCTP pool TLS: tls_enabled', sctp({ default_pool: { tls_enabled: true } }), one('$.default_pool.tls_enabled', 'SCTP pools cannot use TLS')],
];

const sessionPersistence: [string, Json, Violation[]][] = [
  ['UDP: HTTP_COOKIE persistence', udp(persistence({ type: 'HTTP_COOKIE' })), one(`${SP_AT}.type`, 'HTTP_COOKIE persistence needs an HTTP listener')],
  ['UDP: APP_COOKIE persistence', udp(persistence({ type: 'APP_COOKIE', cookie_name: 'sid' })), one(`${SP_AT}.type`, 'APP_COOKIE persistence needs an HTTP listener')],
  ['SCTP: HTTP_COOKIE persistence', sctp(persistence({ type: 'HTTP_COOKIE' })), one(`${SP_AT}.type`, 'HTTP_COOKIE persistence needs an HTTP listener')],
  ['SOURCE_IP persistence with a cookie_name', udp(persistence({ type: 'SOURCE_IP', cookie_name: 'sid' })), one(`${SP_AT}.cookie_name`, 'SOURCE_IP persistence takes no cookie_name')],
  ['IPv4 granularity not contiguous', udp(persistence({ type: 'SOURCE_IP', persistence_granularity: '255.0.255.0' })), one(`${SP_AT}.persistence_granularity`, NETMASK)],
  ['IPv4 granularity as a prefix length', udp(persistence({ type: 'SOURCE_IP', persistence_granularity: '24' })), one(`${SP_AT}.persistence_granularity`, NETMASK)],
  ['IPv4 granularity not an address', udp(persistence({ type: 'SOURCE_IP', persistence_granularity: '255.255.255.256' })), one(`${SP_AT}.persistence_granularity`, NETMASK)],
  ['IPv6 granularity as a dotted mask', ipv6(persistence({ type: 'SOURCE_IP', persistence_granularity: '255.255.255.0' })), one(`${SP_AT}.persistence_granularity`, NETMASK)],
  ['IPv6 granularity above 128', ipv6(persistence({ type: 'SOURCE_IP', persistence_granularity: '129' })), one(`${SP_AT}.persistence_granularity`, NETMASK)],
  ['IPv6 granularity 0', ipv6(persistence({ type: 'SOURCE_IP', persistence_granularity: '0' })), one(`${SP_AT}.persistence_granularity`, NETMASK)],
  ['dual-stack granularity fits only IPv4', dualStack(persistence({ type: 'SOURCE_IP', persistence_granularity: '255.255.255.0' })), one(`${SP_AT}.persistence_granularity`, NETMASK)],
  ['ONE_PACKET_SCHEDULING with persistence_timeout', udp(persistence({ type: 'ONE_PACKET_SCHEDULING', persistence_timeout: 60 })), one(`${SP_AT}.persistence_timeout`, 'ONE_PACKET_SCHEDULING takes no other fields')],
  [
    'ONE_PACKET_SCHEDULING with persistence_granularity',
    udp(persistence({ type: 'ONE_PACKET_SCHEDULING', persistence_granularity: '255.255.255.0' })),
    one(`${SP_AT}.persistence_granularity`, 'ONE_PACKET_SCHEDULING takes no other fields'),
  ],
  ['ONE_PACKET_SCHEDULING with cookie_name', udp(persistence({ type: 'ONE_PACKET_SCHEDULING', cookie_name: 'sid' })), one(`${SP_AT}.cookie_name`, 'ONE_PACKET_SCHEDULING takes no other fields')],
  ['SCTP: ONE_PACKET_SCHEDULING', sctp(persistence({ type: 'ONE_PACKET_SCHEDULING' })), one(`${SP_AT}.type`, 'ONE_PACKET_SCHEDULING is for UDP listeners only')],
];

const monitors: [string, Json, Violation[]][] = [
  ['UDP: SCTP monitor', udp(monitor({ type: 'SCTP' })), one(`${HM_AT}.type`, `SCTP monitors are not allowed on UDP pools; ${UDP_MONITORS}`)],
  ['UDP: HTTPS monitor', udp(monitor({ type: 'HTTPS' })), one(`${HM_AT}.type`, `HTTPS monitors are not allowed on UDP pools; ${UDP_MONITORS}`)],
  ['UDP: TLS-HELLO monitor', udp(monitor({ type: 'TLS-HELLO' })), one(`${HM_AT}.type`, `TLS-HELLO monitors are not allowed on UDP pools; ${UDP_MONITORS}`)],
  ['SCTP: UDP-CONNECT monitor', sctp(monitor({ type: 'UDP-CONNECT' })), one(`${HM_AT}.type`, `UDP-CONNECT monitors are not allowed on SCTP pools; ${SCTP_MONITORS}`)],
  ['SCTP: HTTPS monitor', sctp(monitor({ type: 'HTTPS' })), one(`${HM_AT}.type`, `HTTPS monitors are not allowed on SCTP pools; ${SCTP_MONITORS}`)],
  ['http_method on a TCP monitor', udp(monitor({ type: 'TCP', http_method: 'GET' })), one(`${HM_AT}.http_method`, 'only HTTP monitors take http_method')],
  ['url_path on a UDP-CONNECT monitor', udp(monitor({ url_path: '/' })), one(`${HM_AT}.url_path`, 'only HTTP monitors take url_path')],
  ['expected_codes on a PING monitor', udp(monitor({ type: 'PING', expected_codes: '200' })), one(`${HM_AT}.expected_codes`, 'only HTTP monitors take expected_codes')],
  ['expected_codes on an SCTP monitor', sctp(monitor({ expected_codes: '200' })), one(`${HM_AT}.expected_codes`, 'only HTTP monitors take expected_codes')],
  ['an http_method keepalived cannot send', udp(monitor({ type: 'HTTP', http_method: 'POST' })), one(`${HM_AT}.http_method`, "keepalived's HTTP check sends GET only")],
  ['timeout equal to delay', udp(monitor({ type: 'TCP', delay: 5, timeout: 5 })), one(`${HM_AT}.timeout`, 'timeout (5) must be less than delay (5)')],
  ['timeout above delay', udp(monitor({ delay: 5, timeout: 30 })), one(`${HM_AT}.timeout`, 'timeout (30) must be less than delay (5)')],
  ["timeout above keepalived's limit", udp(monitor({ type: 'TCP', delay: 5000, timeout: 4294 })), one(`${HM_AT}.timeout`, "must be at most 4293 seconds on UDP pools (keepalived's limit)")],
  ['UDP-CONNECT delay below the default minimum (3)', udp(monitor({ delay: 2, timeout: 1 })), one(`${HM_AT}.delay`, 'UDP-CONNECT monitors need a delay of at least 3 seconds')],
  ['max_retries 0', udp(monitor({ max_retries: 0 })), one(`${HM_AT}.max_retries`, 'must be from 1 to 10')],
  ['max_retries 11', udp(monitor({ max_retries: 11 })), one(`${HM_AT}.max_retries`, 'must be from 1 to 10')],
  ['max_retries_down 0', udp(monitor({ max_retries_down: 0 })), one(`${HM_AT}.max_retries_down`, 'must be from 1 to 10')],
  ['max_retries_down 11', sctp(monitor({ max_retries_down: 11 })), one(`${HM_AT}.max_retries_down`, 'must be from 1 to 10')],
  ['expected_codes above 599', udp(monitor({ type: 'HTTP', expected_codes: '600' })), one(`${HM_AT}.expected_codes`, EXPECTED_CODES)],
  ['expected_codes as a reversed range', udp(monitor({ type: 'HTTP', expected_codes: '204-200' })), one(`${HM_AT}.expected_codes`, EXPECTED_CODES)],
  ['expected_codes mixing a list and a range', udp(monitor({ type: 'HTTP', expected_codes: '200,300-302' })), one(`${HM_AT}.expected_codes`, EXPECTED_CODES)],
  ['url_path without a leading /', udp(monitor({ type: 'HTTP', url_path: 'healthz' })), one(`${HM_AT}.url_path`, URL_PATH)],
];

const addresses: [string, Json, Violation[]][] = [
  ['IPv6 member on an IPv4 VIP', udp(members(member(1), v6(2))), one(`${MEMBERS_AT}[1].address`, 'IPv6 member, but no IPv6 VIP')],
  ['IPv4 member on an IPv6 VIP', ipv6(members(v6(1), member(2))), one(`${MEMBERS_AT}[1].address`, 'IPv4 member, but no IPv4 VIP')],
  ['IPv6 monitor_address of an IPv4 member', udp(members(member(1, { monitor_address: '2001:db8::99' }))), one(`${MEMBERS_AT}[0].monitor_address`, 'must be in the address family of the member')],
  [
    "dual stack: the monitor_address follows the member's family, not the VIPs'",
    dualStack(members(member(1), v6(2, { monitor_address: '192.0.2.99' }))),
    one(`${MEMBERS_AT}[1].monitor_address`, 'must be in the address family of the member'),
  ],
  ['the same member id twice', udp(members(member(1), member(2, { id: member(1).id }))), one(`${MEMBERS_AT}[1].id`, 'member ids must be unique')],
  ['the same address and port in two members', udp(members(member(1), member(2, { address: '192.0.2.11' }))), one(`${MEMBERS_AT}[1].address`, 'another member already has 192.0.2.11 port 5353')],
  ['the same VIP twice', udp({ vip_addresses: ['203.0.113.10', '198.51.100.10', '203.0.113.10'] }), one('$.vip_addresses[2]', '203.0.113.10 is listed twice')],
  ['a pool of another protocol', udp({ default_pool: { protocol: 'TCP' } }), one('$.default_pool.protocol', 'a UDP listener needs a UDP pool')],
  ['an SCTP listener with a UDP pool', sctp({ default_pool: { protocol: 'UDP' } }), one('$.default_pool.protocol', 'a SCTP listener needs a SCTP pool')],
];

describe('API 2.0 listener rules: each broken rule is a 400 naming its path, and installs nothing', () => {
  it.each([...layer4, ...sessionPersistence, ...monitors, ...addresses])('%s', async (_rule, body, violations) => {
    const t = await apiApp();
    expect(await refused(t, body)).toEqual(violations);
  });

  it('POST .../validate refuses with the same violations', async () => {
    const t = await apiApp();
    const [, body, violations] = monitors[0]!;
    const res = await request(t.app).post(`/2.0/listeners/${L1}/validate`).send(JSON.stringify(body)).expect(400);
    expect(res.body.violations).toEqual(violations);
    await expectNothingInstalled(t);
  });

  it('reports every violation of a request together, in rule order', async () => {
    const t = await apiApp();
    const body = udp({
      l7policies: [{ action: 'REJECT' }],
      tls_versions: ['TLSv1.3'],
      vip_addresses: ['203.0.113.10', '203.0.113.10'],
      default_pool: {
        tls_enabled: true,
        session_persistence: { type: 'ONE_PACKET_SCHEDULING', persistence_timeout: 10 },
        health_monitor: { type: 'SCTP', delay: 2, timeout: 2, max_retries: 0, max_retries_down: 20, url_path: '/x y' },
        members: [member(1), v6(2, { monitor_address: '192.0.2.1' }), member(1)],
      },
    });
    expect(await refused(t, body)).toEqual([
      { path: '$.l7policies', message: 'UDP listeners cannot have L7 policies' },
      { path: '$.tls_versions', message: 'UDP listeners cannot use TLS' },
      { path: '$.default_pool.tls_enabled', message: 'UDP pools cannot use TLS' },
      { path: '$.vip_addresses[1]', message: '203.0.113.10 is listed twice' },
      { path: `${SP_AT}.persistence_timeout`, message: 'ONE_PACKET_SCHEDULING takes no other fields' },
      { path: `${HM_AT}.type`, message: `SCTP monitors are not allowed on UDP pools; ${UDP_MONITORS}` },
      { path: `${HM_AT}.timeout`, message: 'timeout (2) must be less than delay (2)' },
      { path: `${HM_AT}.max_retries`, message: 'must be from 1 to 10' },
      { path: `${HM_AT}.max_retries_down`, message: 'must be from 1 to 10' },
      { path: `${HM_AT}.url_path`, message: 'only HTTP monitors take url_path' },
      { path: `${HM_AT}.url_path`, message: URL_PATH },
      { path: `${MEMBERS_AT}[1].address`, message: 'IPv6 member, but no IPv6 VIP' },
      { path: `${MEMBERS_AT}[1].monitor_address`, message: 'must be in the address family of the member' },
      { path: `${MEMBERS_AT}[2].id`, message: 'member ids must be unique' },
      { path: `${MEMBERS_AT}[2].address`, message: 'another member already has 192.0.2.11 port 5353' },
    ]);
  });
});

describe('[api_settings] udp_connect_min_interval_health_monitor', () => {
  it('defaults to 3: delay 3 is accepted, delay 2 refused; other monitor types have no minimum', async () => {
    const t = await apiApp();
    expect(await refused(t, udp(monitor({ delay: 2, timeout: 1 })))).toEqual(one(`${HM_AT}.delay`, 'UDP-CONNECT monitors need a delay of at least 3 seconds'));
    await accepted(t, udp(monitor({ delay: 3, timeout: 2 })));
    await accepted(t, udp(monitor({ type: 'TCP', delay: 2, timeout: 1 })));
  });

  it('takes the configured value', async () => {
    const t = await apiApp('[api_settings]\nudp_connect_min_interval_health_monitor = 10\n');
    // the fixture's delay of 5 is now too short
    expect(await refused(t, udp())).toEqual(one(`${HM_AT}.delay`, 'UDP-CONNECT monitors need a delay of at least 10 seconds'));
    await accepted(t, udp(monitor({ delay: 10 })));
    await accepted(t, sctp(monitor({ delay: 5 })));
  });

  it('0 turns it off', async () => {
    const t = await apiApp('[api_settings]\nudp_connect_min_interval_health_monitor = 0\n');
    await accepted(t, udp(monitor({ delay: 2, timeout: 1 })));
  });
});

describe('the features the rules allow', () => {
  // [feature, listener, something the rendered text must hold]
  const features: [string, Json, RegExp][] = [
    ['SCTP with an SCTP monitor', sctp(), /protocol SCTP[\s\S]*misc_path "\/usr\/bin\/amphora-health-checker sctp -t 3 192\.0\.2\.11 5353"/],
    ['SOURCE_IP persistence, IPv4 netmask', udp(persistence({ type: 'SOURCE_IP', persistence_timeout: 60, persistence_granularity: '255.255.0.0' })), /persistence_timeout 60\n\s+persistence_granularity 255\.255\.0\.0\n/],
    ['SOURCE_IP persistence, IPv6 prefix length', ipv6(persistence({ type: 'SOURCE_IP', persistence_granularity: '64' })), /persistence_timeout 360\n\s+persistence_granularity 64\n/],
    ['SOURCE_IP persistence on a dual-stack VIP without granularity', dualStack(persistence({ type: 'SOURCE_IP' })), /vips-ipv4[\s\S]*persistence_timeout 360[\s\S]*vips-ipv6/],
    ['ONE_PACKET_SCHEDULING', udp(persistence({ type: 'ONE_PACKET_SCHEDULING' })), /protocol UDP\n\s+ops\n/],
    ['an HTTP monitor with a list of codes and a path', udp(monitor({ type: 'HTTP', http_method: 'GET', url_path: '/health?x=1', expected_codes: '200,202' })), /path \/health\?x=1\n\s+status_code 200 202\n/],
    ['a PING monitor on SCTP', sctp(monitor({ type: 'PING' })), /PING_CHECK/],
    ['dual stack with members of both families', dualStack(members(member(1), v6(2))), /real_server 192\.0\.2\.11 5353[\s\S]*real_server 2001:db8::12 5353/],
    ['free-text names are stored, never rendered', udp({ name: 'x\n}\nvirtual_server 1.2.3.4 53 {', default_pool: { name: '"$#{' } }), /^(?![\s\S]*1\.2\.3\.4)/],
  ];

  it.each(features)('%s', async (_feature, body, shape) => {
    const t = await apiApp();
    const res = await accepted(t, body);
    expect(res.body.rendered.text).toMatch(shape);
  });
});

// ------------------------------------------------------------------------------------------
// Injection through every string that reaches a config file
// ------------------------------------------------------------------------------------------

const INJECTIONS = ['\n}\nvirtual_server 192.0.2.99 53 {', '"', '{', '}', '$x', '#', '!', ' ', '\t', '\u0000', '\u001b'];

// [field, how to build the body with this value, path, message]
const stringFields: [string, (bad: string) => Json, string, string][] = [
  ['url_path', (bad) => udp(monitor({ type: 'HTTP', url_path: `/ok${bad}` })), `${HM_AT}.url_path`, URL_PATH],
  ['expected_codes', (bad) => udp(monitor({ type: 'HTTP', expected_codes: `200${bad}` })), `${HM_AT}.expected_codes`, EXPECTED_CODES],
  [
    'persistence_granularity (IPv4)',
    (bad) => udp(persistence({ type: 'SOURCE_IP', persistence_granularity: `255.255.255.0${bad}` })),
    `${SP_AT}.persistence_granularity`,
    NETMASK,
  ],
  ['persistence_granularity (IPv6)', (bad) => ipv6(persistence({ type: 'SOURCE_IP', persistence_granularity: `64${bad}` })), `${SP_AT}.persistence_granularity`, NETMASK],
  ['cookie_name (HTTP listener)', (bad) => http(persistence({ type: 'APP_COOKIE', cookie_name: `sid${bad}` })), `${SP_AT}.cookie_name`, COOKIE],
  ['vip_addresses', (bad) => udp({ vip_addresses: [`203.0.113.10${bad}`] }), '$.vip_addresses[0]', 'must be an IPv4 or IPv6 address'],
  ['an IPv6 VIP with a zone', (bad) => ipv6({ vip_addresses: [`2001:db8::1%eth0${bad}`] }), '$.vip_addresses[0]', 'must be an IPv4 or IPv6 address'],
  ['member address', (bad) => udp(members(member(1, { address: `192.0.2.11${bad}` }))), `${MEMBERS_AT}[0].address`, 'must be an IPv4 or IPv6 address'],
  ['member monitor_address', (bad) => udp(members(member(1, { monitor_address: `192.0.2.99${bad}` }))), `${MEMBERS_AT}[0].monitor_address`, 'must be an IPv4 or IPv6 address'],
  ['loadbalancer_id', (bad) => udp({ loadbalancer_id: `aaaaaaaa-0000-0000-0000-000000000001${bad}` }), '$.loadbalancer_id', 'must be a lower-case UUID'],
  ['pool id', (bad) => udp({ default_pool: { id: `bbbbbbbb-0000-0000-0000-000000000001${bad}` } }), '$.default_pool.id', 'must be a lower-case UUID'],
  ['member id', (bad) => udp(members(member(1, { id: `dddddddd-0000-0000-0000-000000000001${bad}` }))), `${MEMBERS_AT}[0].id`, 'must be a lower-case UUID'],
  ['health monitor id', (bad) => udp(monitor({ id: `cccccccc-0000-0000-0000-000000000001${bad}` })), `${HM_AT}.id`, 'must be a lower-case UUID'],
];

describe('strings that reach a config file cannot carry a directive', () => {
  const cases = stringFields.flatMap(([field, body, path, message]) =>
    INJECTIONS.map((bad) => [field, JSON.stringify(bad), body(bad), path, message] as const),
  );

  it.each(cases)('%s with %s', async (_field, _bad, body, path, message) => {
    const t = await apiApp();
    expect(await refused(t, body)).toEqual(one(path, message));
  });

  it('each field passes shape and rules without the injected characters (so the refusals above are about them)', () => {
    for (const [field, body] of stringFields) {
      const shape = parseListenerShape(body(''));
      expect(shape.ok, field).toBe(true);
      if (shape.ok) expect(listenerViolations(shape.listener, { udpConnectMinDelay: 3 }), field).toEqual([]);
    }
  });

  it('refuses a listener id that is not a UUID, in the URL', async () => {
    const t = await apiApp();
    for (const id of ['eeeeeeee-0000-0000-0000-000000000011%0A%7D', 'eeeeeeee-0000-0000-0000-000000000011%22', '..%2F..%2Fetc']) {
      const res = await request(t.app).put(`/2.0/listeners/${id}`).send(JSON.stringify(udp())).expect(400);
      expect(res.body).toMatchObject({ code: 'invalid_input' });
      expect(res.body.details).toMatch(/^listener id must be a UUID/);
    }
    expect(t.init.calls).toEqual([]);
  });
});

// ------------------------------------------------------------------------------------------
// Shape
// ------------------------------------------------------------------------------------------

const shapes: [string, Json | unknown[], Violation[]][] = [
  ['an unknown top-level field', udp({ bogus: 1 }), one('$.bogus', 'unknown field')],
  ['an unknown member field', udp(members(member(1, { bogus: 1 }))), one(`${MEMBERS_AT}[0].bogus`, 'unknown field')],
  ['an unknown monitor field (a typo)', udp(monitor({ max_retry: 3 })), one(`${HM_AT}.max_retry`, 'unknown field')],
  ['a body that is an array', [udp()], one('$', 'Invalid input: expected object, received array')],
  ['a port as a string', udp({ protocol_port: '53' }), one('$.protocol_port', 'Invalid input: expected number, received string')],
  ['a boolean as a string', udp({ admin_state_up: 'yes' }), one('$.admin_state_up', 'Invalid input: expected boolean, received string')],
  ['a fraction as a weight', udp(members(member(1, { weight: 1.5 }))), one(`${MEMBERS_AT}[0].weight`, 'Invalid input: expected int, received number')],
  ['a missing protocol', udp({ protocol: undefined }), one('$.protocol', 'Invalid option: expected one of "UDP"|"SCTP"|"TCP"|"HTTP"')],
  ['an unknown protocol', udp({ protocol: 'QUIC' }), one('$.protocol', 'Invalid option: expected one of "UDP"|"SCTP"|"TCP"|"HTTP"')],
  ['an unknown algorithm', udp({ default_pool: { lb_algorithm: 'RANDOM' } }), one('$.default_pool.lb_algorithm', 'Invalid option: expected one of "ROUND_ROBIN"|"LEAST_CONNECTIONS"|"SOURCE_IP"')],
  ['listener port 0', udp({ protocol_port: 0 }), one('$.protocol_port', 'Too small: expected number to be >=1')],
  ['listener port 65536', udp({ protocol_port: 65536 }), one('$.protocol_port', 'Too big: expected number to be <=65535')],
  ['member port 0', udp(members(member(1, { protocol_port: 0 }))), one(`${MEMBERS_AT}[0].protocol_port`, 'Too small: expected number to be >=1')],
  ['monitor_port 70000', udp(members(member(1, { monitor_port: 70000 }))), one(`${MEMBERS_AT}[0].monitor_port`, 'Too big: expected number to be <=65535')],
  ['weight -1', udp(members(member(1, { weight: -1 }))), one(`${MEMBERS_AT}[0].weight`, 'Too small: expected number to be >=0')],
  ['weight 257', udp(members(member(1, { weight: 257 }))), one(`${MEMBERS_AT}[0].weight`, 'Too big: expected number to be <=256')],
  ['connection_limit -2', udp({ connection_limit: -2 }), one('$.connection_limit', 'Too small: expected number to be >=-1')],
  ['monitor delay 0', udp(monitor({ delay: 0 })), one(`${HM_AT}.delay`, 'Too small: expected number to be >=1')],
  ['persistence_timeout above 31 days', udp(persistence({ type: 'SOURCE_IP', persistence_timeout: 2678401 })), one(`${SP_AT}.persistence_timeout`, 'Too big: expected number to be <=2678400')],
  ['no VIP', udp({ vip_addresses: [] }), one('$.vip_addresses', 'Too small: expected array to have >=1 items')],
  ['an unknown monitor type', udp(monitor({ type: 'DNS' })), one(`${HM_AT}.type`, 'Invalid option: expected one of "UDP-CONNECT"|"SCTP"|"TCP"|"HTTP"|"HTTPS"|"TLS-HELLO"|"PING"')],
  [
    'several shape errors at once',
    udp({ protocol_port: 0, vip_addresses: ['nope'], default_pool: { members: [member(1, { weight: 300, address: 'x' })] } }),
    [
      { path: '$.vip_addresses[0]', message: 'must be an IPv4 or IPv6 address' },
      { path: '$.protocol_port', message: 'Too small: expected number to be >=1' },
      { path: `${MEMBERS_AT}[0].address`, message: 'must be an IPv4 or IPv6 address' },
      { path: `${MEMBERS_AT}[0].weight`, message: 'Too big: expected number to be <=256' },
    ],
  ],
];

describe('API 2.0 listener shape: wrong fields and types are a 400 naming their path', () => {
  it.each(shapes)('%s', async (_what, body, violations) => {
    const t = await apiApp();
    expect(await refused(t, body)).toEqual(violations);
  });
});
