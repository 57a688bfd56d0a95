/**
 * @module render/lvs-view
 * Listener model → view of one keepalived LVS config (NAT), the input of
 * templates/keepalived/lvs.conf.njk. Pure. Every string put into the config passes
 * `configToken` (or is a number) here, again after the API rules, so a value that slipped past
 * the rules still cannot add a directive.
 *
 * Mapping (docs/design/0004-listener-model.md says why):
 * - ROUND_ROBIN → wrr, LEAST_CONNECTIONS → wlc, SOURCE_IP → sh: the weighted schedulers, so
 *   member weights count (sh spreads its hash buckets by weight).
 * - delay → delay_loop and delay_before_retry; max_retries_down (else max_retries) → retry;
 *   timeout → the probe's own timeout (connect_timeout / misc_timeout).
 * - UDP-CONNECT → keepalived's own UDP_CHECK sending one "X" (payload 58, the byte Octavia's nc
 *   probe sends): down on an ICMP unreachable, up on a reply or on silence, as Octavia's script
 *   decides, and no process forked per member per delay (ADR 0004 has the evidence).
 * - ONE_PACKET_SCHEDULING → `ops`; SOURCE_IP → persistence_timeout (360 s when not given or 0) and
 *   persistence_granularity when given.
 * - connection_limit → uthreshold on every real server (LVS has no per-service limit).
 * - A disabled listener or pool renders no virtual server (keepalived stays up and idle), a
 *   disabled member is left out, a disabled monitor renders no checks.
 */
import { configToken, type ConfigToken } from '../model/config-token.js';
import { expectedCodesRange, familyOf, URL_PATH } from '../model/listener/rules.js';
import type { HealthMonitor, LbAlgorithm, Listener, Member } from '../model/listener/schema.js';
import { UnsafeValue } from '../model/errors.js';
import { parseIpAddress } from '../model/ip-address.js';
import type { LvsLayout } from '../model/lvs-layout.js';
import { render } from './environment.js';

export interface LvsRenderSettings {
  readonly namespace: string;
  /** Command that probes an SCTP member: `<cmd> sctp -t <timeout> <address> <port>`. */
  readonly sctpCheckCommand: string;
}

export const LVS_SCHEDULER: Record<LbAlgorithm, ConfigToken> = {
  ROUND_ROBIN: 'wrr' as ConfigToken,
  LEAST_CONNECTIONS: 'wlc' as ConfigToken,
  SOURCE_IP: 'sh' as ConfigToken,
};

/**
 * The datagram UDP_CHECK sends for a UDP-CONNECT monitor, as keepalived's hex string: one "X",
 * what Octavia's udp_check.sh (nc -uz) and the agent's own script write, so a member's service
 * sees the probe it saw before. Without it keepalived sends 32 bytes of its own.
 */
export const UDP_CONNECT_PAYLOAD = '58' as ConfigToken;

/** Octavia's default for SOURCE_IP persistence without a timeout. */
export const DEFAULT_PERSISTENCE_TIMEOUT = 360;

type CheckView =
  | { readonly kind: 'MISC_CHECK'; readonly path: string; readonly timeout: number }
  | { readonly kind: 'UDP_CHECK'; readonly ip: ConfigToken; readonly port: number; readonly timeout: number; readonly payload: ConfigToken }
  | { readonly kind: 'TCP_CHECK'; readonly ip: ConfigToken; readonly port: number; readonly timeout: number }
  | { readonly kind: 'PING_CHECK'; readonly ip: ConfigToken; readonly timeout: number }
  | { readonly kind: 'HTTP_GET'; readonly ip: ConfigToken; readonly port: number; readonly timeout: number; readonly urlPath: ConfigToken; readonly statusCodes: string };

export interface RealServerView {
  readonly id: ConfigToken;
  readonly address: ConfigToken;
  readonly port: number;
  readonly weight: number;
  readonly uthreshold: number | null;
  readonly check: CheckView | null;
}

export interface VirtualServerView {
  readonly group: ConfigToken;
  readonly vips: readonly ConfigToken[];
  readonly port: number;
  readonly scheduler: ConfigToken;
  readonly protocol: ConfigToken;
  readonly onePacket: boolean;
  readonly persistence: { readonly timeout: number; readonly granularity: ConfigToken | null } | null;
  readonly timers: { readonly delayLoop: number; readonly delayBeforeRetry: number; readonly retry: number } | null;
  readonly realServers: readonly RealServerView[];
  readonly disabledMembers: readonly ConfigToken[];
}

export interface LvsView {
  readonly listenerId: ConfigToken;
  readonly loadBalancerId: ConfigToken;
  readonly namespace: ConfigToken;
  readonly poolId: ConfigToken | null;
  readonly monitorId: ConfigToken | null;
  /** Why there is no virtual server, or null. */
  readonly idleReason: string | null;
  readonly virtualServers: readonly VirtualServerView[];
}

const num = (n: number, what: string): number => {
  if (!Number.isSafeInteger(n)) throw new UnsafeValue(`${what} is not an integer: ${n}`);
  return n;
};

/** url paths may hold ?, &, ; and ~, which ConfigToken does not allow; URL_PATH still keeps out $, #, !, quotes, spaces and braces. */
function urlPath(value: string): ConfigToken {
  if (!URL_PATH.test(value)) throw new UnsafeValue(`url path is not safe in a config: ${JSON.stringify(value)}`);
  return value as ConfigToken;
}

function checkView(hm: HealthMonitor, m: Member, settings: LvsRenderSettings): CheckView {
  const ip = configToken(m.monitor_address ?? m.address, 'member monitor address');
  const port = num(m.monitor_port ?? m.protocol_port, 'member monitor port');
  const timeout = num(hm.timeout, 'monitor timeout');
  switch (hm.type) {
    case 'UDP-CONNECT':
      return { kind: 'UDP_CHECK', ip, port, timeout, payload: UDP_CONNECT_PAYLOAD };
    case 'SCTP': {
      const cmd = settings.sctpCheckCommand.split(' ').map((w) => configToken(w, 'sctp check command'));
      // one second more than the probe's own timeout, so that keepalived sees its verdict
      return { kind: 'MISC_CHECK', path: [...cmd, 'sctp', '-t', timeout, ip, port].join(' '), timeout: timeout + 1 };
    }
    case 'TCP':
      return { kind: 'TCP_CHECK', ip, port, timeout };
    case 'PING':
      return { kind: 'PING_CHECK', ip, timeout };
    case 'HTTP': {
      const codes = expectedCodesRange(configToken(hm.expected_codes ?? '200', 'expected codes'));
      // keepalived's status_code takes codes and ranges separated by spaces: "200-204", "200 202"
      const statusCodes = (hm.expected_codes ?? '200').includes('-') ? `${codes[0]}-${codes[codes.length - 1]}` : codes.join(' ');
      return { kind: 'HTTP_GET', ip, port, timeout, urlPath: urlPath(hm.url_path ?? '/'), statusCodes };
    }
    default:
      throw new UnsafeValue(`monitor type ${hm.type} cannot be rendered for LVS`);
  }
}

export function toLvsView(listener: Listener, listenerId: string, settings: LvsRenderSettings): LvsView {
  const pool = listener.default_pool;
  const hm = pool?.health_monitor && pool.health_monitor.admin_state_up ? pool.health_monitor : null;
  const base = {
    listenerId: configToken(listenerId, 'listener id'),
    loadBalancerId: configToken(listener.loadbalancer_id, 'load balancer id'),
    namespace: configToken(settings.namespace, 'namespace'),
    poolId: pool ? configToken(pool.id, 'pool id') : null,
    monitorId: hm ? configToken(hm.id, 'monitor id') : null,
  };
  const idleReason = !listener.admin_state_up ? 'the listener is disabled' : pool === null ? 'the listener has no pool' : !pool.admin_state_up ? 'the pool is disabled' : null;
  if (idleReason !== null || pool === null) return { ...base, idleReason: idleReason ?? 'the listener has no pool', virtualServers: [] };

  const sp = pool.session_persistence;
  const persistence =
    sp?.type === 'SOURCE_IP'
      ? {
          // 0 is "not given", as in Octavia's template: keepalived refuses persistence_timeout 0 (range 1-2678400)
          timeout: num(sp.persistence_timeout || DEFAULT_PERSISTENCE_TIMEOUT, 'persistence timeout'),
          granularity: sp.persistence_granularity ? configToken(sp.persistence_granularity, 'persistence granularity') : null,
        }
      : null;
  const timers = hm
    ? { delayLoop: num(hm.delay, 'delay'), delayBeforeRetry: num(hm.delay, 'delay'), retry: num(hm.max_retries_down ?? hm.max_retries, 'retry') }
    : null;
  const uthreshold = listener.connection_limit > 0 ? listener.connection_limit : null;

  const virtualServers = ([4, 6] as const).flatMap((family): VirtualServerView[] => {
    const vips = listener.vip_addresses.filter((a) => familyOf(a) === family);
    if (vips.length === 0) return [];
    const members = pool.members.filter((m) => familyOf(m.address) === family);
    return [
      {
        group: configToken(`vips-ipv${family}`, 'group'),
        vips: vips.map((a) => configToken(a, 'VIP address')),
        port: num(listener.protocol_port, 'protocol port'),
        scheduler: LVS_SCHEDULER[pool.lb_algorithm],
        protocol: configToken(listener.protocol, 'protocol'),
        onePacket: sp?.type === 'ONE_PACKET_SCHEDULING',
        persistence,
        timers,
        realServers: members
          .filter((m) => m.admin_state_up)
          .map((m) => ({
            id: configToken(m.id, 'member id'),
            address: configToken(m.address, 'member address'),
            port: num(m.protocol_port, 'member port'),
            weight: num(m.weight, 'member weight'),
            uthreshold,
            check: hm ? checkView(hm, m, settings) : null,
          })),
        disabledMembers: members.filter((m) => !m.admin_state_up).map((m) => configToken(m.id, 'member id')),
      },
    ];
  });
  return { ...base, idleReason: null, virtualServers };
}

export function renderLvsConfig(listener: Listener, listenerId: string, settings: LvsRenderSettings): string {
  return render('keepalived/lvs.conf.njk', toLvsView(listener, listenerId, settings));
}

const canonical = (address: string): string => parseIpAddress(address)?.text ?? address;

/**
 * The layout (model/lvs-layout.ts) of what `view` renders: the same facts `parseLvsLayout` reads
 * from the text, and the addresses of disabled members, which the text does not carry.
 */
export function lvsLayoutOf(view: LvsView, listener: Listener): LvsLayout {
  const pool = listener.default_pool;
  const members = view.virtualServers.flatMap((vs) => [
    ...vs.realServers.map((rs) => ({ id: rs.id, address: canonical(rs.address), port: rs.port, disabled: false })),
    ...vs.disabledMembers.map((id) => {
      const m = pool?.members.find((x) => x.id === String(id));
      return { id, address: m ? canonical(m.address) : null, port: m?.protocol_port ?? null, disabled: true };
    }),
  ]);
  return {
    listenerDisabled: !listener.admin_state_up,
    virtualServers: view.virtualServers.flatMap((vs) => vs.vips.map((vip) => ({ address: canonical(vip), port: vs.port }))),
    pool:
      view.idleReason === null && view.poolId !== null
        ? { id: view.poolId, checked: view.virtualServers.some((vs) => vs.realServers.some((rs) => rs.check !== null)), members }
        : null,
  };
}

/** The config text, whether it has a virtual server and its layout (what the agent records about it). */
export function renderLvsListener(listener: Listener, listenerId: string, settings: LvsRenderSettings): { text: string; virtualServers: boolean; layout: LvsLayout } {
  const view = toLvsView(listener, listenerId, settings);
  return { text: render('keepalived/lvs.conf.njk', view), virtualServers: view.virtualServers.length > 0, layout: lvsLayoutOf(view, listener) };
}
