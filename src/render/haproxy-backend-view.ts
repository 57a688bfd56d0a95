/**
 * @module render/haproxy-backend-view
 * The backend of one enabled pool in the haproxy view: balance, servers, health checks and
 * session persistence. Pure; every value passes render/haproxy-values.ts or `configToken`.
 * It does not decide whether a listener gets a backend (render/haproxy-view.ts does).
 *
 * Mapping (names as Octavia's):
 * - a backend `<pool id>:<listener id>`: ROUND_ROBIN → roundrobin, LEAST_CONNECTIONS →
 *   leastconn, SOURCE_IP → source; a server `<member id>` per member, a disabled one with
 *   `disabled`: haproxy holds it in maintenance and `show stat` reports it MAINT, which the
 *   heartbeat turns into OFFLINE as for Octavia's configs (left out, it would keep the status it
 *   had, NO_MONITOR in a pool without a monitor).
 * - an enabled monitor: `check inter <delay>s fall <max_retries_down or max_retries>
 *   rise <max_retries>` (+ `addr`/`port` for monitor_address/monitor_port) and
 *   `timeout check <timeout>s`; HTTP monitors add `option httpchk` with `http-check send` and
 *   `http-check expect status` (a code, a list or a range: haproxy ≥ 2.2 takes all three).
 * - SOURCE_IP persistence: a stick table on the source address (ipv6 when a VIP is IPv6, which
 *   holds IPv4 clients too), expiring after persistence_timeout when given; HTTP_COOKIE:
 *   haproxy inserts cookie SRV naming the member; APP_COOKIE: the member that set the named
 *   cookie keeps the clients that send it back.
 */
import { configToken, type ConfigToken } from '../model/config-token.js';
import { COOKIE_NAME, familyOf } from '../model/listener/rules.js';
import type { HealthMonitor, LbAlgorithm, Listener, Member, Pool } from '../model/listener/schema.js';
import { UnsafeValue } from '../model/errors.js';
import type { BackendView, PersistenceView, ServerView } from './haproxy-view-types.js';
import { bracketed, endpoint, modeOf, num, port, statusCodes, urlPath } from './haproxy-values.js';

export const HAPROXY_BALANCE: Record<LbAlgorithm, ConfigToken> = {
  ROUND_ROBIN: 'roundrobin' as ConfigToken,
  LEAST_CONNECTIONS: 'leastconn' as ConfigToken,
  SOURCE_IP: 'source' as ConfigToken,
};

/** Octavia's stick table size. */
const STICK_TABLE_SIZE = '10k';

function checkOf(hm: HealthMonitor | null): BackendView['check'] {
  if (hm === null) return null;
  const timeout = num(hm.timeout, 'monitor timeout', 1);
  switch (hm.type) {
    case 'TCP':
      return { timeout, http: null };
    case 'HTTP':
      return {
        timeout,
        http: {
          method: configToken(hm.http_method ?? 'GET', 'http method'),
          path: urlPath(hm.url_path ?? '/'),
          status: statusCodes(hm.expected_codes ?? '200'),
        },
      };
    default:
      throw new UnsafeValue(`monitor type ${hm.type} cannot be rendered for haproxy`);
  }
}

function persistenceOf(pool: Pool, listener: Listener): PersistenceView | null {
  const sp = pool.session_persistence;
  if (sp === null) return null;
  switch (sp.type) {
    case 'SOURCE_IP': {
      const timeout = sp.persistence_timeout ?? null;
      return {
        kind: 'SOURCE_IP',
        table: listener.vip_addresses.some((a) => familyOf(a) === 6) ? 'ipv6' : 'ip',
        size: STICK_TABLE_SIZE,
        expire: timeout === null || timeout === 0 ? null : num(timeout, 'persistence timeout', 1),
      };
    }
    case 'HTTP_COOKIE':
    case 'APP_COOKIE':
      if (listener.protocol !== 'HTTP') throw new UnsafeValue(`${sp.type} persistence needs an HTTP listener`);
      if (sp.type === 'HTTP_COOKIE') return { kind: 'HTTP_COOKIE' };
      if (typeof sp.cookie_name !== 'string' || !COOKIE_NAME.test(sp.cookie_name)) throw new UnsafeValue(`cookie name is not safe in a config: ${JSON.stringify(sp.cookie_name)}`);
      return { kind: 'APP_COOKIE', cookie: configToken(sp.cookie_name, 'cookie name'), size: STICK_TABLE_SIZE };
    default:
      throw new UnsafeValue(`${sp.type} persistence cannot be rendered for haproxy`);
  }
}

function serverOf(m: Member, hm: HealthMonitor | null, cookies: boolean): ServerView {
  const id = configToken(m.id, 'member id');
  return {
    id,
    endpoint: endpoint(m.address, m.protocol_port, 'member address'),
    weight: num(m.weight, 'member weight'),
    check: hm
      ? {
          inter: num(hm.delay, 'monitor delay', 1),
          fall: num(hm.max_retries_down ?? hm.max_retries, 'max_retries_down', 1),
          rise: num(hm.max_retries, 'max_retries', 1),
          addr: m.monitor_address != null ? bracketed(m.monitor_address, 'member monitor address') : null,
          port: m.monitor_port != null ? port(m.monitor_port, 'member monitor port') : null,
        }
      : null,
    cookie: cookies ? id : null,
    disabled: !m.admin_state_up,
  };
}

/** The backend of `listener`'s enabled default pool. */
export function backendOf(listenerId: ConfigToken, listener: Listener, pool: Pool): BackendView {
  const poolId = configToken(pool.id, 'pool id');
  const hm = pool.health_monitor && pool.health_monitor.admin_state_up ? pool.health_monitor : null;
  const persistence = persistenceOf(pool, listener);
  return {
    name: configToken(`${poolId}:${listenerId}`, 'backend name'),
    listenerId,
    poolId,
    monitorId: hm ? configToken(hm.id, 'monitor id') : null,
    mode: modeOf(listener.protocol),
    balance: HAPROXY_BALANCE[pool.lb_algorithm],
    persistence,
    timeoutConnect: num(listener.timeout_member_connect, 'timeout_member_connect'),
    timeoutServer: num(listener.timeout_member_data, 'timeout_member_data'),
    check: checkOf(hm),
    servers: pool.members.map((m) => serverOf(m, hm, persistence?.kind === 'HTTP_COOKIE')),
  };
}
