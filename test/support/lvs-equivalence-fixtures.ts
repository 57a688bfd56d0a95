/**
 * @module test/support/lvs-equivalence-fixtures
 * The fixtures of test/integration/lvs-equivalence.test.ts: listener models (API 2.0 JSON) that
 * together cover what Octavia's LVS template can express (protocols, algorithms, weights,
 * connection limits, every persistence and monitor variant, both address families, disabled
 * objects, empty pools), each with what keepalived must make of it. Data only.
 */
import { member, monitor, pool, sctp, twoMembers, udp, type Json } from './lvs-fixture-builders.js';

export interface Fixture {
  readonly name: string;
  readonly model: Json;
  /** How many virtual servers keepalived sets up from it: the fixture is what its name says. */
  readonly virtualServers: number;
  /** The kind of the member checks, null when there are none. */
  readonly check: 'UDP_CHECK' | 'MISC_CHECK' | 'TCP_CHECK' | 'HTTP_GET' | null;
}

export const FIXTURES: readonly Fixture[] = [
  {
    name: 'UDP, ROUND_ROBIN, UDP-CONNECT monitor',
    model: udp(pool('ROUND_ROBIN', twoMembers, { health_monitor: monitor('UDP-CONNECT') })),
    virtualServers: 1,
    check: 'UDP_CHECK',
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
    check: 'UDP_CHECK',
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
    check: 'UDP_CHECK',
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
    check: 'UDP_CHECK',
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
    check: 'UDP_CHECK',
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
    check: 'UDP_CHECK',
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
    check: 'UDP_CHECK',
  },
  {
    name: 'IPv4 and IPv6 VIPs, IPv4 members only (the IPv6 virtual server has no real servers)',
    model: udp(pool('ROUND_ROBIN', twoMembers, { health_monitor: monitor('UDP-CONNECT') }), { vip_addresses: ['203.0.113.10', '2001:db8::10'] }),
    virtualServers: 1,
    check: 'UDP_CHECK',
  },
  {
    name: 'a disabled member among enabled ones',
    model: udp(pool('ROUND_ROBIN', [member(1, '192.0.2.11', 5353, { admin_state_up: false }), member(2, '192.0.2.12', 5353), member(3, '192.0.2.13', 5353, { admin_state_up: true })], { health_monitor: monitor('UDP-CONNECT') })),
    virtualServers: 1,
    check: 'UDP_CHECK',
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
