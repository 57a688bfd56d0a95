/**
 * @module test/api/listeners-v2-shape
 * API 2.0: the shape of a listener (src/model/listener/schema.ts): unknown fields, wrong types
 * and out-of-range numbers are a 400 naming each path, several at once, and install nothing
 * (test/support/listener-refusals). Over createApp with the fake runner and init
 * (test/support/api-app).
 */
import { describe, expect, it } from 'vitest';
import type { Violation } from '../../src/model/listener/violations.js';
import { apiApp } from '../support/api-app.js';
import { member } from '../support/listener-fixtures.js';
import { HM_AT, MEMBERS_AT, SP_AT, one, refused } from '../support/listener-refusals.js';
import { members, monitor, persistence, udp, type Json } from '../support/listener-variants.js';

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
