/**
 * @module test/support/lvs-fixture-builders
 * Builders for the listener models of the LVS equivalence tests (test/integration/lvs-*.test.ts):
 * fixed ids, members, UDP and SCTP listeners, pools and monitors as the agent's API 2.0 JSON,
 * and `modelOf`, which turns one into the agent's Listener through the same shape and rule
 * checks the API applies (a fixture that breaks them is a broken test, not a case).
 */
import { listenerViolations } from '../../src/model/listener/rules.js';
import { parseListenerShape, type LbAlgorithm, type Listener } from '../../src/model/listener/schema.js';

const LB_ID = 'aaaaaaaa-0000-4000-8000-000000000001';
const POOL_ID = 'bbbbbbbb-0000-4000-8000-000000000001';
const HM_ID = 'cccccccc-0000-4000-8000-000000000001';
const memberId = (n: number): string => `dddddddd-0000-4000-8000-${String(n).padStart(12, '0')}`;
export const listenerId = (n: number): string => `eeeeeeee-0000-4000-8000-${String(n).padStart(12, '0')}`;

export type Json = Record<string, unknown>;

export const member = (n: number, address: string, port: number, extra: Json = {}): Json => ({ id: memberId(n), address, protocol_port: port, ...extra });
export const twoMembers = [member(1, '192.0.2.11', 5353), member(2, '192.0.2.12', 5353)];
export const udp = (pool: Json | null, extra: Json = {}): Json => ({
  loadbalancer_id: LB_ID,
  vip_addresses: ['203.0.113.10'],
  protocol: 'UDP',
  protocol_port: 53,
  default_pool: pool,
  ...extra,
});
export const sctp = (pool: Json | null, extra: Json = {}): Json => udp(pool, { protocol: 'SCTP', protocol_port: 3868, ...extra });
export const pool = (lbAlgorithm: LbAlgorithm, members: Json[], extra: Json = {}): Json => ({ id: POOL_ID, lb_algorithm: lbAlgorithm, members, ...extra });
export const monitor = (type: string, extra: Json = {}): Json => ({ id: HM_ID, type, delay: 5, timeout: 3, max_retries: 3, ...extra });

/** The fixture as the agent's model, after the same shape and rule checks the API applies. */
export function modelOf(json: Json): Listener {
  const shape = parseListenerShape(json);
  if (!shape.ok) throw new Error(`fixture is not a listener: ${JSON.stringify(shape.violations)}`);
  const violations = listenerViolations(shape.listener, { udpConnectMinDelay: 3 });
  if (violations.length > 0) throw new Error(`fixture breaks the rules: ${JSON.stringify(violations)}`);
  return shape.listener;
}
