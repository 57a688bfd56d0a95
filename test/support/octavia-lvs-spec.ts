/**
 * @module test/support/octavia-lvs-spec
 * The agent's Listener as Octavia's LvsJinjaTemplater reads it (the spec test/support/
 * octavia-render.py takes for `kind: lvs`), and the render itself under /usr/bin/python3, with
 * the namespace of the caller's choosing. Refuses what Octavia's LVS template cannot express
 * (other persistence types, PING), so that a comparison never rests on a made-up mapping.
 */
import type { LbAlgorithm, Listener } from '../../src/model/listener/schema.js';
import { RENDER_SCRIPT, SYSTEM_PYTHON, sh, show } from './keepalived-fixture.js';

/** What test/support/octavia-render.py takes for `kind: lvs`. */
export interface OctaviaLvsSpec {
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

export function octaviaSpec(l: Listener, id: string, basePath: string): OctaviaLvsSpec {
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

export async function renderWithOctavia(spec: OctaviaLvsSpec, ns: string): Promise<string> {
  const r = await sh(SYSTEM_PYTHON, [RENDER_SCRIPT], { input: JSON.stringify(spec) });
  if (r.code !== 0) throw new Error(`octavia-render.py failed: ${show(r)}`);
  if (!/^net_namespace amphora-haproxy$/m.test(r.stdout)) throw new Error(`unexpected Octavia LVS render:\n${r.stdout}`);
  return r.stdout.replace(/^net_namespace amphora-haproxy$/m, `net_namespace ${ns}`);
}
