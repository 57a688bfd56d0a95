/**
 * @module model/listener/rules
 * The rules of the UDP support spec (seeds/octavia-udp-support-spec.rst) and of this agent,
 * checked on a listener whose shape is valid. Every violation is returned, each with its JSON
 * path; an empty list means the listener can be rendered. Pure.
 *
 * - UDP and SCTP listeners are layer 4 (LVS): no L7 policies, no insert_headers, no TLS, no
 *   cookie persistence. SOURCE_IP persistence takes only persistence_timeout and
 *   persistence_granularity (a netmask of the VIP's family); ONE_PACKET_SCHEDULING takes nothing
 *   and is UDP only (SCTP associations cannot be scheduled packet by packet).
 * - Monitors of UDP/SCTP pools: UDP-CONNECT (UDP pools), SCTP (SCTP pools), TCP, HTTP, PING.
 *   HTTP fields only with HTTP; keepalived's HTTP_GET sends GET only. timeout < delay, and at
 *   most 4293 s (keepalived's limit);
 *   UDP-CONNECT delay ≥ `[api_settings] udp_connect_min_interval_health_monitor`;
 *   max_retries and max_retries_down 1–10.
 * - Members (and their monitor addresses) in an address family of the VIPs.
 * - Strings that reach a config file (url_path, expected_codes, cookie_name, granularity) are
 *   limited to characters that cannot end a word, open a block or start a comment there.
 */
import { isIP } from 'node:net';
import {
  LISTENER_TLS_FIELDS,
  POOL_TLS_FIELDS,
  type HealthMonitor,
  type Listener,
  type MonitorType,
  type Pool,
  type Protocol,
} from './schema.js';
import type { Violation } from './violations.js';

export interface RuleSettings {
  /** Seconds; Octavia's `[api_settings] udp_connect_min_interval_health_monitor`. */
  readonly udpConnectMinDelay: number;
}

export const LVS_PROTOCOLS: readonly Protocol[] = ['UDP', 'SCTP'];
export const isLvsProtocol = (p: Protocol): boolean => LVS_PROTOCOLS.includes(p);

const MONITORS: Record<Protocol, readonly MonitorType[]> = {
  UDP: ['UDP-CONNECT', 'TCP', 'HTTP', 'PING'],
  SCTP: ['SCTP', 'TCP', 'HTTP', 'PING'],
  TCP: ['TCP', 'HTTP'],
  HTTP: ['TCP', 'HTTP'],
};

/**
 * keepalived takes check timeouts up to 4294 s (connect_timeout ≤ 4294.967295, misc_timeout ≤
 * 4294) and refuses the config above; the SCTP check renders misc_timeout as timeout + 1.
 */
export const LVS_MAX_CHECK_TIMEOUT = 4293;

/** No `$` (keepalived expands it), `#`/`!` (comments), quotes, spaces or braces. */
export const URL_PATH = /^\/[A-Za-z0-9._~%\/:@=+,;&?-]{0,254}$/;
/** "200", "200-204" or "200,202,204"; codes 100–599. */
export const EXPECTED_CODES = /^(?:[1-5]\d\d-[1-5]\d\d|[1-5]\d\d(?:,[1-5]\d\d)*)$/;
export const COOKIE_NAME = /^[A-Za-z0-9_-]{1,64}$/;

const isSet = (v: unknown): boolean => v !== undefined && v !== null && v !== false && !(Array.isArray(v) && v.length === 0) && v !== '';

/** A contiguous dotted IPv4 netmask (255.255.255.0) or, for IPv6, a prefix length 1–128. */
export function isNetmask(value: string, family: 4 | 6): boolean {
  if (family === 6) return /^(?:[1-9]|[1-9]\d|1[01]\d|12[0-8])$/.test(value);
  if (isIP(value) !== 4) return false;
  const bits = value
    .split('.')
    .map((o) => Number(o).toString(2).padStart(8, '0'))
    .join('');
  return /^1+0*$/.test(bits);
}

export function familyOf(address: string): 4 | 6 {
  return isIP(address) === 6 ? 6 : 4;
}

export function expectedCodesRange(codes: string): number[] {
  if (codes.includes('-')) {
    const [from, to] = codes.split('-').map(Number) as [number, number];
    return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
  }
  return codes.split(',').map(Number);
}

function monitorRules(listener: Listener, hm: HealthMonitor, settings: RuleSettings, out: Violation[]): void {
  const at = '$.default_pool.health_monitor';
  const proto = listener.protocol;
  if (!MONITORS[proto].includes(hm.type)) {
    out.push({ path: `${at}.type`, message: `${hm.type} monitors are not allowed on ${proto} pools; allowed: ${MONITORS[proto].join(', ')}` });
  }
  if (hm.timeout >= hm.delay) out.push({ path: `${at}.timeout`, message: `timeout (${hm.timeout}) must be less than delay (${hm.delay})` });
  if (isLvsProtocol(proto) && hm.timeout > LVS_MAX_CHECK_TIMEOUT) {
    out.push({ path: `${at}.timeout`, message: `must be at most ${LVS_MAX_CHECK_TIMEOUT} seconds on ${proto} pools (keepalived's limit)` });
  }
  if (hm.type === 'UDP-CONNECT' && hm.delay < settings.udpConnectMinDelay) {
    out.push({ path: `${at}.delay`, message: `UDP-CONNECT monitors need a delay of at least ${settings.udpConnectMinDelay} seconds` });
  }
  for (const field of ['max_retries', 'max_retries_down'] as const) {
    const v = hm[field];
    if (v !== undefined && (v < 1 || v > 10)) out.push({ path: `${at}.${field}`, message: 'must be from 1 to 10' });
  }
  const http = hm.type === 'HTTP' || hm.type === 'HTTPS';
  for (const field of ['http_method', 'url_path', 'expected_codes'] as const) {
    if (hm[field] !== undefined && !http) out.push({ path: `${at}.${field}`, message: `only HTTP monitors take ${field}` });
  }
  if (hm.url_path !== undefined && !URL_PATH.test(hm.url_path)) {
    out.push({ path: `${at}.url_path`, message: 'must start with / and hold only letters, digits and ._~%/:@=+,;&?-' });
  }
  if (hm.expected_codes !== undefined) {
    const range = EXPECTED_CODES.test(hm.expected_codes) ? expectedCodesRange(hm.expected_codes) : [];
    if (range.length === 0) out.push({ path: `${at}.expected_codes`, message: 'must be a code (200), a list (200,202) or a range (200-204) of codes 100-599' });
  }
  if (isLvsProtocol(proto) && hm.http_method !== undefined && hm.http_method !== 'GET') {
    out.push({ path: `${at}.http_method`, message: "keepalived's HTTP check sends GET only" });
  }
}

function persistenceRules(listener: Listener, pool: Pool, out: Violation[]): void {
  const sp = pool.session_persistence;
  if (sp === null) return;
  const at = '$.default_pool.session_persistence';
  const lvs = isLvsProtocol(listener.protocol);
  const extra = (fields: readonly ('persistence_timeout' | 'persistence_granularity' | 'cookie_name')[], why: string) => {
    for (const f of fields) if (sp[f] !== undefined && sp[f] !== null) out.push({ path: `${at}.${f}`, message: why });
  };
  switch (sp.type) {
    case 'HTTP_COOKIE':
    case 'APP_COOKIE':
      if (listener.protocol !== 'HTTP') out.push({ path: `${at}.type`, message: `${sp.type} persistence needs an HTTP listener` });
      extra(['persistence_timeout', 'persistence_granularity'], `not allowed with ${sp.type} persistence`);
      if (sp.type === 'APP_COOKIE' && !isSet(sp.cookie_name)) out.push({ path: `${at}.cookie_name`, message: 'APP_COOKIE persistence needs a cookie_name' });
      if (sp.type === 'HTTP_COOKIE') extra(['cookie_name'], 'HTTP_COOKIE persistence sets its own cookie');
      if (typeof sp.cookie_name === 'string' && !COOKIE_NAME.test(sp.cookie_name)) {
        out.push({ path: `${at}.cookie_name`, message: 'must be 1-64 letters, digits, _ or -' });
      }
      break;
    case 'ONE_PACKET_SCHEDULING':
      if (listener.protocol !== 'UDP') out.push({ path: `${at}.type`, message: 'ONE_PACKET_SCHEDULING is for UDP listeners only' });
      extra(['persistence_timeout', 'persistence_granularity', 'cookie_name'], 'ONE_PACKET_SCHEDULING takes no other fields');
      break;
    case 'SOURCE_IP': {
      extra(['cookie_name'], 'SOURCE_IP persistence takes no cookie_name');
      const g = sp.persistence_granularity;
      if (g === undefined || g === null) break;
      if (!lvs) {
        out.push({ path: `${at}.persistence_granularity`, message: 'persistence_granularity is for UDP and SCTP listeners' });
        break;
      }
      const families = [...new Set(listener.vip_addresses.map(familyOf))];
      const bad = families.filter((f) => !isNetmask(g, f));
      if (bad.length > 0) {
        out.push({
          path: `${at}.persistence_granularity`,
          message: `must be a netmask for every VIP: a contiguous dotted mask for IPv4 (255.255.255.0), a prefix length 1-128 for IPv6`,
        });
      }
      break;
    }
  }
}

function layer4Rules(listener: Listener, out: Violation[]): void {
  const p = listener.protocol;
  if (listener.l7policies.length > 0) out.push({ path: '$.l7policies', message: `${p} listeners cannot have L7 policies` });
  if (Object.keys(listener.insert_headers).length > 0) out.push({ path: '$.insert_headers', message: `${p} listeners cannot insert headers` });
  for (const f of LISTENER_TLS_FIELDS) if (isSet(listener[f])) out.push({ path: `$.${f}`, message: `${p} listeners cannot use TLS` });
  const pool = listener.default_pool;
  if (pool) for (const f of POOL_TLS_FIELDS) if (isSet(pool[f])) out.push({ path: `$.default_pool.${f}`, message: `${p} pools cannot use TLS` });
}

const HEADERS = ['X-Forwarded-For', 'X-Forwarded-Port', 'X-Forwarded-Proto'];

function haproxyRules(listener: Listener, out: Violation[]): void {
  const p = listener.protocol;
  if (listener.l7policies.length > 0) out.push({ path: '$.l7policies', message: 'L7 policies are not supported by this agent yet' });
  for (const [name, value] of Object.entries(listener.insert_headers)) {
    if (p !== 'HTTP') out.push({ path: `$.insert_headers.${name}`, message: 'only HTTP listeners can insert headers' });
    else if (!HEADERS.includes(name)) out.push({ path: `$.insert_headers.${name}`, message: `supported headers: ${HEADERS.join(', ')}` });
    else if (value !== 'true' && value !== 'false') out.push({ path: `$.insert_headers.${name}`, message: 'must be "true" or "false"' });
  }
  // There is no certificate store in this agent yet, so there is nothing a TLS reference could name.
  for (const f of LISTENER_TLS_FIELDS) if (isSet(listener[f])) out.push({ path: `$.${f}`, message: 'TLS is not supported by this agent yet' });
  const pool = listener.default_pool;
  if (pool) for (const f of POOL_TLS_FIELDS) if (isSet(pool[f])) out.push({ path: `$.default_pool.${f}`, message: 'TLS is not supported by this agent yet' });
}

export function listenerViolations(listener: Listener, settings: RuleSettings): Violation[] {
  const out: Violation[] = [];
  const lvs = isLvsProtocol(listener.protocol);
  if (lvs) layer4Rules(listener, out);
  else haproxyRules(listener, out);

  const seen = new Set<string>();
  listener.vip_addresses.forEach((a, i) => {
    if (seen.has(a)) out.push({ path: `$.vip_addresses[${i}]`, message: `${a} is listed twice` });
    seen.add(a);
  });
  if (!lvs && listener.connection_limit === 0) out.push({ path: '$.connection_limit', message: 'must be -1 (unlimited) or at least 1' });

  const pool = listener.default_pool;
  if (pool === null) return out;
  if (pool.protocol !== undefined && pool.protocol !== listener.protocol) {
    out.push({ path: '$.default_pool.protocol', message: `a ${listener.protocol} listener needs a ${listener.protocol} pool` });
  }
  persistenceRules(listener, pool, out);
  if (pool.health_monitor) monitorRules(listener, pool.health_monitor, settings, out);

  const families = new Set(listener.vip_addresses.map(familyOf));
  const memberIds = new Set<string>();
  const endpoints = new Set<string>();
  pool.members.forEach((m, i) => {
    const at = `$.default_pool.members[${i}]`;
    if (memberIds.has(m.id)) out.push({ path: `${at}.id`, message: 'member ids must be unique' });
    memberIds.add(m.id);
    // keepalived and haproxy would take the second one for the first
    const endpoint = `${m.address} ${m.protocol_port}`;
    if (endpoints.has(endpoint)) out.push({ path: `${at}.address`, message: `another member already has ${m.address} port ${m.protocol_port}` });
    endpoints.add(endpoint);
    if (!families.has(familyOf(m.address))) out.push({ path: `${at}.address`, message: `IPv${familyOf(m.address)} member, but no IPv${familyOf(m.address)} VIP` });
    if (m.monitor_address != null && familyOf(m.monitor_address) !== familyOf(m.address)) {
      out.push({ path: `${at}.monitor_address`, message: 'must be in the address family of the member' });
    }
  });
  return out;
}
