/**
 * @module model/listener/schema
 * The listener model of API 2.0: a listener with its VIP addresses and its default pool,
 * members, health monitor and session persistence, the objects of both seed specs. This file
 * checks shape and types only (strict objects: an unknown field is an error, so a typo cannot
 * be silently ignored); the rules that relate fields to each other are in `rules.ts`. Fields
 * this agent refuses for some protocols (TLS, L7 policies, insert_headers) are part of the shape
 * so that the refusal can name them.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { isUuid } from '../uuid.js';
import { jsonPath, type Violation } from './violations.js';

export const PROTOCOLS = ['UDP', 'SCTP', 'TCP', 'HTTP'] as const;
export const LB_ALGORITHMS = ['ROUND_ROBIN', 'LEAST_CONNECTIONS', 'SOURCE_IP'] as const;
export const PERSISTENCE_TYPES = ['SOURCE_IP', 'ONE_PACKET_SCHEDULING', 'HTTP_COOKIE', 'APP_COOKIE'] as const;
/** Octavia's monitor types; which ones a pool may use depends on its protocol (rules.ts). */
export const MONITOR_TYPES = ['UDP-CONNECT', 'SCTP', 'TCP', 'HTTP', 'HTTPS', 'TLS-HELLO', 'PING'] as const;
export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'TRACE', 'OPTIONS', 'PATCH', 'CONNECT'] as const;

export type Protocol = (typeof PROTOCOLS)[number];
export type LbAlgorithm = (typeof LB_ALGORITHMS)[number];
export type MonitorType = (typeof MONITOR_TYPES)[number];

const uuid = z.string().refine(isUuid, 'must be a lower-case UUID');
const ipAddress = z.string().refine((s) => isIP(s) !== 0, 'must be an IPv4 or IPv6 address');
const port = z.number().int().min(1).max(65535);
/** Free text that is stored but never written into a config file. */
const label = z.string().max(255).optional();

const member = z.strictObject({
  id: uuid,
  name: label,
  address: ipAddress,
  protocol_port: port,
  weight: z.number().int().min(0).max(256).default(1),
  admin_state_up: z.boolean().default(true),
  monitor_address: ipAddress.nullable().optional(),
  monitor_port: port.nullable().optional(),
});

const healthMonitor = z.strictObject({
  id: uuid,
  name: label,
  type: z.enum(MONITOR_TYPES),
  delay: z.number().int().min(1).max(2147483647),
  timeout: z.number().int().min(1).max(2147483647),
  // ranges are rules, so that they are reported with the others
  max_retries: z.number().int(),
  max_retries_down: z.number().int().optional(),
  http_method: z.enum(HTTP_METHODS).optional(),
  url_path: z.string().optional(),
  expected_codes: z.string().optional(),
  admin_state_up: z.boolean().default(true),
});

const sessionPersistence = z.strictObject({
  type: z.enum(PERSISTENCE_TYPES),
  // seconds; 0 means "not given" (360), as in Octavia; keepalived's limit is 31 days
  persistence_timeout: z.number().int().min(0).max(2678400).nullable().optional(),
  persistence_granularity: z.string().nullable().optional(),
  cookie_name: z.string().nullable().optional(),
});

const tlsRef = z.string().nullable().optional();
const tlsList = z.array(z.string()).nullable().optional();

const pool = z.strictObject({
  id: uuid,
  name: label,
  protocol: z.enum(PROTOCOLS).optional(),
  lb_algorithm: z.enum(LB_ALGORITHMS),
  admin_state_up: z.boolean().default(true),
  session_persistence: sessionPersistence.nullable().default(null),
  members: z.array(member).default([]),
  health_monitor: healthMonitor.nullable().default(null),
  // TLS towards members: refused (rules.ts)
  tls_enabled: z.boolean().optional(),
  tls_container_ref: tlsRef,
  ca_tls_container_ref: tlsRef,
  crl_container_ref: tlsRef,
  tls_ciphers: tlsRef,
  tls_versions: tlsList,
  alpn_protocols: tlsList,
});

export const listenerSchema = z.strictObject({
  loadbalancer_id: uuid,
  name: label,
  vip_addresses: z.array(ipAddress).min(1).max(16),
  protocol: z.enum(PROTOCOLS),
  protocol_port: port,
  /** -1: unlimited (Octavia's default). */
  connection_limit: z.number().int().min(-1).max(1000000).default(-1),
  admin_state_up: z.boolean().default(true),
  default_pool: pool.nullable().default(null),
  /** haproxy timeouts in milliseconds (TCP and HTTP listeners). */
  timeout_client_data: z.number().int().min(0).max(86400000).default(50000),
  timeout_member_connect: z.number().int().min(0).max(86400000).default(5000),
  timeout_member_data: z.number().int().min(0).max(86400000).default(50000),
  // refused for UDP/SCTP, and unsupported by this agent otherwise (rules.ts)
  l7policies: z.array(z.unknown()).default([]),
  insert_headers: z.record(z.string(), z.string()).default({}),
  default_tls_container_ref: tlsRef,
  sni_container_refs: tlsList,
  client_ca_tls_container_ref: tlsRef,
  client_crl_container_ref: tlsRef,
  client_authentication: z.string().nullable().optional(),
  tls_ciphers: tlsRef,
  tls_versions: tlsList,
  alpn_protocols: tlsList,
});

export type Listener = z.infer<typeof listenerSchema>;

/** A listener with its id, as the agent stores, renders and lists it. */
export interface StoredListener {
  readonly id: string;
  readonly listener: Listener;
}
export type Pool = NonNullable<Listener['default_pool']>;
export type Member = Pool['members'][number];
export type HealthMonitor = NonNullable<Pool['health_monitor']>;
export type SessionPersistence = NonNullable<Pool['session_persistence']>;

/** The fields that configure TLS; any of them set on a listener or pool is a TLS listener/pool. */
export const LISTENER_TLS_FIELDS = [
  'default_tls_container_ref',
  'sni_container_refs',
  'client_ca_tls_container_ref',
  'client_crl_container_ref',
  'client_authentication',
  'tls_ciphers',
  'tls_versions',
  'alpn_protocols',
] as const satisfies readonly (keyof Listener)[];
export const POOL_TLS_FIELDS = [
  'tls_enabled',
  'tls_container_ref',
  'ca_tls_container_ref',
  'crl_container_ref',
  'tls_ciphers',
  'tls_versions',
  'alpn_protocols',
] as const satisfies readonly (keyof Pool)[];

export type ShapeResult = { ok: true; listener: Listener } | { ok: false; violations: Violation[] };

/** Shape and types; every problem is listed with its JSON path. */
export function parseListenerShape(input: unknown): ShapeResult {
  const r = listenerSchema.safeParse(input);
  if (r.success) return { ok: true, listener: r.data };
  // an unknown field is reported at its own path, one violation per field
  const violations = r.error.issues.flatMap((i) =>
    i.code === 'unrecognized_keys' ? i.keys.map((k) => ({ path: jsonPath([...i.path, k]), message: 'unknown field' })) : [{ path: jsonPath(i.path), message: i.message }],
  );
  return { ok: false, violations };
}
