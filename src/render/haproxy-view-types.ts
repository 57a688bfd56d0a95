/**
 * @module render/haproxy-view-types
 * The shape of the view that templates/haproxy/haproxy.cfg.njk reads: the global section, one
 * frontend per enabled listener, one backend per enabled pool with its servers. Types only; the
 * builders (render/haproxy-view.ts and the modules it uses) are what make every field safe to
 * put into a config, and they must not be bypassed by building these objects elsewhere.
 */
import type { ConfigToken } from '../model/config-token.js';

export type HaproxyMode = 'tcp' | 'http';

/** An address and port as haproxy reads them: `192.0.2.1:80`, `[2001:db8::1]:80`. */
export type Endpoint = string & { readonly __brand: 'Endpoint' };

export interface GlobalView {
  /** null: haproxy's own, from its file-descriptor limit. */
  readonly maxconn: number | null;
  readonly statsSocket: ConfigToken;
  readonly serverStateFile: ConfigToken | null;
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
  /** A disabled member: haproxy keeps the server in maintenance (MAINT), as Octavia renders it. */
  readonly disabled: boolean;
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
  /** Health-checked: the new process of a reload starts its servers in the states the old one saved. */
  readonly check: { readonly timeout: number; readonly http: { readonly method: ConfigToken; readonly path: ConfigToken; readonly status: ConfigToken } | null } | null;
  readonly servers: readonly ServerView[];
}

export interface HaproxyView {
  readonly loadBalancerId: ConfigToken;
  readonly global: GlobalView;
  readonly frontends: readonly FrontendView[];
  readonly backends: readonly BackendView[];
  readonly disabledListeners: readonly ConfigToken[];
}
