/**
 * Listener models for API 2.0 tests: a valid UDP listener to start from, and a deep-merge helper
 * to derive the variants (one feature or one broken rule each).
 */
export const LB = 'aaaaaaaa-0000-0000-0000-000000000001';
export const POOL = 'bbbbbbbb-0000-0000-0000-000000000001';
export const HM = 'cccccccc-0000-0000-0000-000000000001';
export const member = (n: number, extra: Record<string, unknown> = {}) => ({
  id: `dddddddd-0000-0000-0000-${String(n).padStart(12, '0')}`,
  address: `192.0.2.${10 + n}`,
  protocol_port: 5353,
  ...extra,
});

/** A UDP listener on 203.0.113.10:53, round robin over two members, with a UDP-CONNECT monitor. */
export function udpListener(): Record<string, unknown> {
  return {
    loadbalancer_id: LB,
    vip_addresses: ['203.0.113.10'],
    protocol: 'UDP',
    protocol_port: 53,
    default_pool: {
      id: POOL,
      lb_algorithm: 'ROUND_ROBIN',
      members: [member(1), member(2)],
      health_monitor: { id: HM, type: 'UDP-CONNECT', delay: 5, timeout: 3, max_retries: 3 },
    },
  };
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Deep merge of plain objects; arrays and scalars in `patch` replace; `undefined` deletes. */
export function merge(base: Json, patch: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) delete out[k];
    else out[k] = isObject(v) && isObject(out[k]) ? merge(out[k] as Json, v) : v;
  }
  return out;
}
