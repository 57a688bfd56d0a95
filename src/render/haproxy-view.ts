/**
 * @module render/haproxy-view
 * Listener models → view of the one haproxy config that serves every TCP and HTTP listener of
 * a load balancer, the input of templates/haproxy/haproxy.cfg.njk. Pure. Every string put into
 * the config passes `configToken` or an anchored check (render/haproxy-values.ts, again after
 * the API rules), and every number is checked to be an integer, so a value that slipped past
 * the rules still cannot add a directive. This module owns the frontends and how the parts fit
 * together; the backends (render/haproxy-backend-view.ts) and the global section
 * (render/haproxy-global-view.ts) are built where they are described.
 *
 * Mapping (names as Octavia's, so that its tooling and operators find what they know):
 * - a frontend `<listener id>` per enabled listener, binding every VIP at the listener's port;
 *   maxconn is connection_limit, or `defaultMaxconn` for an unlimited listener. A disabled
 *   listener renders no frontend, only a comment.
 * - a backend per enabled pool. A listener without a pool, or with a disabled one, gets a
 *   frontend without a backend: haproxy accepts and closes (TCP) or answers 503 (HTTP).
 * - insert_headers (HTTP): X-Forwarded-For → option forwardfor; X-Forwarded-Port and
 *   X-Forwarded-Proto → http-request set-header.
 */
import { configToken, type ConfigToken } from '../model/config-token.js';
import type { Listener, StoredListener } from '../model/listener/schema.js';
import { UnsafeValue } from '../model/errors.js';
import { render } from './environment.js';
import { backendOf } from './haproxy-backend-view.js';
import { globalOf } from './haproxy-global-view.js';
import type { HaproxyRenderSettings } from './haproxy-settings.js';
import type { BackendView, Endpoint, FrontendView, HaproxyMode, HaproxyView } from './haproxy-view-types.js';
import { endpoint, modeOf, num } from './haproxy-values.js';

function header(listener: Listener, name: string): boolean {
  return listener.insert_headers[name] === 'true';
}

/** The listener's VIPs at its port, each added to `bound`. */
function bindsOf(listener: Listener, bound: Set<string>): Endpoint[] {
  const binds = listener.vip_addresses.map((a) => endpoint(a, listener.protocol_port, 'VIP address'));
  for (const b of binds) {
    // two frontends on one address and port would share it (SO_REUSEPORT) and split its traffic
    if (bound.has(b)) throw new UnsafeValue(`${b} is bound by two listeners`);
    bound.add(b);
  }
  return binds;
}

function frontendOf(id: ConfigToken, listener: Listener, mode: HaproxyMode, binds: readonly Endpoint[], backend: BackendView | null, defaultMaxconn: number): FrontendView {
  const pool = listener.default_pool;
  const http = mode === 'http';
  return {
    id,
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
  };
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
    const binds = bindsOf(listener, bound);
    const pool = listener.default_pool;
    const backend = pool && pool.admin_state_up ? backendOf(listenerId, listener, pool) : null;
    if (backend) backends.push(backend);
    frontends.push(frontendOf(listenerId, listener, mode, binds, backend, defaultMaxconn));
  }

  return { loadBalancerId: lbId, global: globalOf(settings, frontends, defaultMaxconn), frontends, backends, disabledListeners };
}

export function renderHaproxyConfig(loadBalancerId: string, listeners: readonly StoredListener[], settings: HaproxyRenderSettings): string {
  return render('haproxy/haproxy.cfg.njk', toHaproxyView(loadBalancerId, listeners, settings));
}
