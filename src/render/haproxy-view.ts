/**
 * @module render/haproxy-view
 * Listener models → view of the one haproxy config that serves every TCP and HTTP listener of
 * a load balancer, the input of templates/haproxy/haproxy.cfg.njk. Pure. Every string put into
 * the config passes `configToken` or an anchored check here (again after the API rules), and
 * every number is checked to be an integer, so a value that slipped past the rules still
 * cannot add a directive.
 *
 * Mapping (names as Octavia's, so that its tooling and operators find what they know):
 * - a frontend `<listener id>` per enabled listener, binding every VIP at the listener's port;
 *   maxconn is connection_limit, or `defaultMaxconn` for an unlimited listener; the global
 *   maxconn is their sum, or haproxy's own (`globalMaxconn`). A disabled listener renders no
 *   frontend, only a comment.
 * - a backend `<pool id>:<listener id>` per enabled pool: ROUND_ROBIN → roundrobin,
 *   LEAST_CONNECTIONS → leastconn, SOURCE_IP → source; a server `<member id>` per enabled
 *   member (a disabled one is a comment). A listener without a pool, or with a disabled one,
 *   gets a frontend without a backend: haproxy accepts and closes (TCP) or answers 503 (HTTP).
 * - an enabled monitor: `check inter <delay>s fall <max_retries_down or max_retries>
 *   rise <max_retries>` (+ `addr`/`port` for monitor_address/monitor_port) and
 *   `timeout check <timeout>s`; HTTP monitors add `option httpchk` with `http-check send` and
 *   `http-check expect status` (a code, a list or a range: haproxy ≥ 2.2 takes all three).
 * - SOURCE_IP persistence: a stick table on the source address (ipv6 when a VIP is IPv6, which
 *   holds IPv4 clients too), expiring after persistence_timeout when given; HTTP_COOKIE:
 *   haproxy inserts cookie SRV naming the member; APP_COOKIE: the member that set the named
 *   cookie keeps the clients that send it back.
 * - insert_headers (HTTP): X-Forwarded-For → option forwardfor; X-Forwarded-Port and
 *   X-Forwarded-Proto → http-request set-header.
 * - no `daemon` in global: haproxy runs in the foreground under its supervisor (-W -db). The
 *   stats socket is always there; it also keeps a config whose listeners are all disabled
 *   valid, so that haproxy idles instead of refusing to start ("no listener").
 */
import { isIP } from 'node:net';
import { configToken, type ConfigToken } from '../model/config-token.js';
import { COOKIE_NAME, EXPECTED_CODES, URL_PATH, expectedCodesRange, familyOf } from '../model/listener/rules.js';
import type { HealthMonitor, LbAlgorithm, Listener, Member, Pool, Protocol, StoredListener } from '../model/listener/schema.js';
import { UnsafeValue } from '../model/errors.js';
import { render } from './environment.js';

export const LOG_LEVELS = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface HaproxyRenderSettings {
  /** The stats socket (paths.haproxyStatsSocket). */
  readonly statsSocket: string;
  /**
   * Where haproxy logs: `stdout` (the daemon's log file under its supervisor), a syslog socket
   * or `host:port`; facility local0–local7 by number; messages above `maxLevel` are dropped
   * (`info` is one line per connection). null: no log lines.
   */
  readonly log: { readonly target: string; readonly facility: number; readonly maxLevel: LogLevel } | null;
  /** User and group haproxy's workers drop to after binding; null keeps root. */
  readonly user: string | null;
  readonly group: string | null;
  /** The maxconn of a listener without connection_limit. */
  readonly defaultMaxconn: number;
  /**
   * The process-wide limit: `sum` of the frontends' maxconn (Octavia's), or `auto`: none in the
   * config, so haproxy derives it from its file-descriptor limit. haproxy refuses to start when
   * the limit a `sum` needs is above the hard RLIMIT_NOFILE it may not raise (a container).
   */
  readonly globalMaxconn: 'sum' | 'auto';
}

export type HaproxyMode = 'tcp' | 'http';

export const HAPROXY_BALANCE: Record<LbAlgorithm, ConfigToken> = {
  ROUND_ROBIN: 'roundrobin' as ConfigToken,
  LEAST_CONNECTIONS: 'leastconn' as ConfigToken,
  SOURCE_IP: 'source' as ConfigToken,
};

const MODES: Partial<Record<Protocol, HaproxyMode>> = { TCP: 'tcp', HTTP: 'http' };

/** Octavia's stick table size. */
const STICK_TABLE_SIZE = '10k';

/** An address and port as haproxy reads them: `192.0.2.1:80`, `[2001:db8::1]:80`. */
export type Endpoint = string & { readonly __brand: 'Endpoint' };

export interface GlobalView {
  /** null: haproxy's own, from its file-descriptor limit. */
  readonly maxconn: number | null;
  readonly statsSocket: ConfigToken;
  readonly log: { readonly target: ConfigToken; readonly raw: boolean; readonly facility: ConfigToken; readonly maxLevel: ConfigToken } | null;
  readonly user: ConfigToken | null;
  readonly group: ConfigToken | null;
}

export interface FrontendView {
  readonly id: ConfigToken;
  readonly binds: readonly Endpoint[];
  readonly mode: HaproxyMode;
  readonly maxconn: number;
  readonly timeoutClient: number;
  readonly headers: { readonly forwardedFor: boolean; readonly forwardedPort: boolean; readonly forwardedProto: boolean };
  readonly backend: ConfigToken | null;
  /** Why there is no backend, or null. */
  readonly noBackend: string | null;
}

export interface ServerView {
  readonly id: ConfigToken;
  readonly endpoint: Endpoint;
  readonly weight: number;
  readonly check: { readonly inter: number; readonly fall: number; readonly rise: number; readonly addr: ConfigToken | null; readonly port: number | null } | null;
  readonly cookie: ConfigToken | null;
}

export type PersistenceView =
  | { readonly kind: 'SOURCE_IP'; readonly table: 'ip' | 'ipv6'; readonly size: string; readonly expire: number | null }
  | { readonly kind: 'HTTP_COOKIE' }
  | { readonly kind: 'APP_COOKIE'; readonly cookie: ConfigToken; readonly size: string };

export interface BackendView {
  readonly name: ConfigToken;
  readonly listenerId: ConfigToken;
  readonly poolId: ConfigToken;
  readonly monitorId: ConfigToken | null;
  readonly mode: HaproxyMode;
  readonly balance: ConfigToken;
  readonly persistence: PersistenceView | null;
  readonly timeoutConnect: number;
  readonly timeoutServer: number;
  readonly check: { readonly timeout: number; readonly http: { readonly method: ConfigToken; readonly path: ConfigToken; readonly status: ConfigToken } | null } | null;
  readonly servers: readonly ServerView[];
  readonly disabledMembers: readonly ConfigToken[];
}

export interface HaproxyView {
  readonly loadBalancerId: ConfigToken;
  readonly global: GlobalView;
  readonly frontends: readonly FrontendView[];
  readonly backends: readonly BackendView[];
  readonly disabledListeners: readonly ConfigToken[];
}

const num = (n: number, what: string, min = 0): number => {
  if (!Number.isSafeInteger(n) || n < min) throw new UnsafeValue(`${what} is not an integer of at least ${min}: ${n}`);
  return n;
};

function port(n: number, what: string): number {
  if (num(n, what, 1) > 65535) throw new UnsafeValue(`${what} is not a port: ${n}`);
  return n;
}

function address(value: string, what: string): ConfigToken {
  if (isIP(value) === 0) throw new UnsafeValue(`${what} is not an IP address: ${JSON.stringify(value)}`);
  return configToken(value, what);
}

/** IPv6 addresses in brackets: haproxy would otherwise take their last group for a port. */
function bracketed(value: string, what: string): ConfigToken {
  const a = address(value, what);
  return (isIP(a) === 6 ? `[${a}]` : a) as ConfigToken;
}

function endpoint(host: string, p: number, what: string): Endpoint {
  return `${bracketed(host, what)}:${port(p, `${what} port`)}` as Endpoint;
}

/** url paths may hold ?, &, ; and ~, which ConfigToken does not allow; URL_PATH still keeps out #, quotes, backslashes, spaces and control characters. */
function urlPath(value: string): ConfigToken {
  if (!URL_PATH.test(value)) throw new UnsafeValue(`url path is not safe in a config: ${JSON.stringify(value)}`);
  return value as ConfigToken;
}

/** "200", "200,202" or "200-204", rebuilt from the integers it names. */
function statusCodes(value: string): ConfigToken {
  if (!EXPECTED_CODES.test(value)) throw new UnsafeValue(`expected codes are not codes: ${JSON.stringify(value)}`);
  const codes = expectedCodesRange(value).map((c) => num(c, 'expected code', 100));
  if (codes.length === 0) throw new UnsafeValue(`expected codes name no code: ${JSON.stringify(value)}`);
  const text = value.includes('-') ? `${codes[0]}-${codes[codes.length - 1]}` : codes.join(',');
  return configToken(text, 'expected codes');
}

function modeOf(protocol: Protocol): HaproxyMode {
  const mode = MODES[protocol];
  if (mode === undefined) throw new UnsafeValue(`${protocol} listeners are not served by haproxy`);
  return mode;
}

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
  };
}

function backendOf(listenerId: ConfigToken, listener: Listener, pool: Pool): BackendView {
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
    servers: pool.members.filter((m) => m.admin_state_up).map((m) => serverOf(m, hm, persistence?.kind === 'HTTP_COOKIE')),
    disabledMembers: pool.members.filter((m) => !m.admin_state_up).map((m) => configToken(m.id, 'member id')),
  };
}

function logOf(log: HaproxyRenderSettings['log']): GlobalView['log'] {
  if (log === null) return null;
  if (!LOG_LEVELS.includes(log.maxLevel)) throw new UnsafeValue(`unknown log level: ${JSON.stringify(log.maxLevel)}`);
  if (num(log.facility, 'log facility') > 7) throw new UnsafeValue(`log facility is not 0-7: ${log.facility}`);
  return {
    target: configToken(log.target, 'log target'),
    // haproxy writes syslog lines to a socket, and bare messages to its own output
    raw: log.target === 'stdout' || log.target === 'stderr',
    facility: configToken(`local${log.facility}`, 'log facility'),
    maxLevel: configToken(log.maxLevel, 'log level'),
  };
}

function header(listener: Listener, name: string): boolean {
  return listener.insert_headers[name] === 'true';
}

export function toHaproxyView(loadBalancerId: string, listeners: readonly StoredListener[], settings: HaproxyRenderSettings): HaproxyView {
  const lbId = configToken(loadBalancerId, 'load balancer id');
  const sorted = [...listeners].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const frontends: FrontendView[] = [];
  const backends: BackendView[] = [];
  const disabledListeners: ConfigToken[] = [];
  const ids = new Set<string>();
  const bound = new Set<string>();
  const defaultMaxconn = num(settings.defaultMaxconn, 'default maxconn', 1);

  for (const { id, listener } of sorted) {
    const listenerId = configToken(id, 'listener id');
    if (ids.has(listenerId)) throw new UnsafeValue(`listener ${listenerId} is given twice`);
    ids.add(listenerId);
    if (listener.loadbalancer_id !== loadBalancerId) throw new UnsafeValue(`listener ${listenerId} belongs to load balancer ${listener.loadbalancer_id}`);
    const mode = modeOf(listener.protocol);
    if (!listener.admin_state_up) {
      disabledListeners.push(listenerId);
      continue;
    }
    const binds = listener.vip_addresses.map((a) => endpoint(a, listener.protocol_port, 'VIP address'));
    for (const b of binds) {
      // two frontends on one address and port would share it (SO_REUSEPORT) and split its traffic
      if (bound.has(b)) throw new UnsafeValue(`${b} is bound by two listeners`);
      bound.add(b);
    }
    const pool = listener.default_pool;
    const backend = pool && pool.admin_state_up ? backendOf(listenerId, listener, pool) : null;
    if (backend) backends.push(backend);
    const http = mode === 'http';
    frontends.push({
      id: listenerId,
      binds,
      mode,
      maxconn: listener.connection_limit > 0 ? num(listener.connection_limit, 'connection_limit', 1) : defaultMaxconn,
      timeoutClient: num(listener.timeout_client_data, 'timeout_client_data'),
      headers: {
        forwardedFor: http && header(listener, 'X-Forwarded-For'),
        forwardedPort: http && header(listener, 'X-Forwarded-Port'),
        forwardedProto: http && header(listener, 'X-Forwarded-Proto'),
      },
      backend: backend ? backend.name : null,
      noBackend: backend ? null : pool === null ? 'the listener has no pool' : `pool ${configToken(pool.id, 'pool id')} is disabled`,
    });
  }

  const global: GlobalView = {
    maxconn: settings.globalMaxconn === 'auto' ? null : frontends.length === 0 ? defaultMaxconn : frontends.reduce((sum, f) => sum + f.maxconn, 0),
    statsSocket: configToken(settings.statsSocket, 'stats socket'),
    log: logOf(settings.log),
    user: settings.user === null ? null : configToken(settings.user, 'user'),
    group: settings.group === null ? null : configToken(settings.group, 'group'),
  };
  return { loadBalancerId: lbId, global, frontends, backends, disabledListeners };
}

export function renderHaproxyConfig(loadBalancerId: string, listeners: readonly StoredListener[], settings: HaproxyRenderSettings): string {
  return render('haproxy/haproxy.cfg.njk', toHaproxyView(loadBalancerId, listeners, settings));
}
