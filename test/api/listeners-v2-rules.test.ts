/**
 * @module test/api/listeners-v2-rules
 * API 2.0: every rule of the listener model (src/model/listener/rules.ts) answered with a 400
 * that names each violation's JSON path and message, over createApp with the fake runner and
 * init (test/support/api-app). Each case starts from the valid UDP listener of
 * test/support/listener-fixtures (or its SCTP/HTTP variant, test/support/listener-variants) and
 * breaks exactly one rule; a refused listener installs nothing: no config file, no unit, no
 * keepalived call (test/support/listener-refusals). The shape (schema.ts), the strings that reach
 * a config file, the rules' setting and what they allow are in the other listeners-v2-*.test.ts.
 */
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import type { Violation } from '../../src/model/listener/violations.js';
import { apiApp } from '../support/api-app.js';
import { member } from '../support/listener-fixtures.js';
import { EXPECTED_CODES, HM_AT, L1, MEMBERS_AT, NETMASK, SP_AT, URL_PATH, expectNothingInstalled, one, refused } from '../support/listener-refusals.js';
import { dualStack, ipv6, members, monitor, persistence, sctp, udp, v6, type Json } from '../support/listener-variants.js';

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
