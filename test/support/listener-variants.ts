/**
 * @module test/support/listener-variants
 * Listener bodies for the API 2.0 rule tests, each derived from the valid UDP listener of
 * test/support/listener-fixtures.ts: its SCTP, HTTP, IPv6 and dual-stack variants, and patches
 * for the monitor, the session persistence and the members. Plain JSON; whether a variant is
 * valid is up to the test that sends it.
 */
import { member, merge, udpListener } from './listener-fixtures.js';

export type Json = Record<string, unknown>;

export const udp = (patch: Json = {}): Json => merge(udpListener(), patch);
/** SCTP on 2905 with an SCTP monitor. */
export const sctp = (patch: Json = {}): Json => merge(udp({ protocol: 'SCTP', protocol_port: 2905, default_pool: { health_monitor: { type: 'SCTP' } } }), patch);
/** HTTP (haproxy) on 80 with an HTTP monitor: the only protocol that takes cookie persistence. */
export const http = (patch: Json = {}): Json => merge(udp({ protocol: 'HTTP', protocol_port: 80, default_pool: { health_monitor: { type: 'HTTP' } } }), patch);
export const monitor = (patch: Json) => ({ default_pool: { health_monitor: patch } });
export const persistence = (sp: Json) => ({ default_pool: { session_persistence: sp } });
export const members = (...list: Json[]) => ({ default_pool: { members: list } });
export const v6 = (n: number, extra: Json = {}) => member(n, { address: `2001:db8::${10 + n}`, ...extra });
/** The fixture's members moved to an IPv6 VIP. */
export const ipv6 = (patch: Json = {}): Json => merge(udp({ vip_addresses: ['2001:db8::1'], ...members(v6(1), v6(2)) }), patch);
export const dualStack = (patch: Json = {}): Json => merge(udp({ vip_addresses: ['203.0.113.10', '2001:db8::1'] }), patch);
