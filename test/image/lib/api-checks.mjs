/**
 * @module test/image/lib/api-checks
 * The checks made through the agent's own API from the host (API 1.0, as Octavia's controller
 * calls it): discovery and /info over mutual TLS, clients without a certificate or with one from
 * another CA refused, then a load balancer as the controller builds one on a new amphora: the VIP
 * plugged on the VIP NIC (into netns amphora-haproxy), an haproxy config uploaded and started, an
 * LVS UDP listener (keepalived) uploaded and started, and the agent's listener list showing both
 * ACTIVE (it reads each daemon's pid file and checks the process is alive).
 */
import { VIP_MAC } from './qemu.mjs';

const LB = 'aaaaaaaa-1313-4000-8000-000000000001';
const HTTP_L = 'bbbbbbbb-1313-4000-8000-000000000002';
const UDP_L = 'cccccccc-1313-4000-8000-000000000003';
const VIP = '203.0.113.10';

/** An haproxy config of the shape Octavia 11 renders for one HTTP listener and one member. */
const haproxyConfig = () => `# Configuration for loadbalancer ${LB}
global
    daemon
    user nobody
    log /run/rsyslog/octavia/log local0
    log /run/rsyslog/octavia/log local1 notice
    stats socket /var/lib/octavia/${LB}.sock mode 0666 level user
    maxconn 50000

defaults
    log global
    retries 3
    option redispatch
    option splice-request
    option splice-response
    option http-keep-alive

frontend ${HTTP_L}
    maxconn 50000
    bind ${VIP}:80
    mode http
    default_backend pool-${HTTP_L}
    timeout client 50000

backend pool-${HTTP_L}
    mode http
    balance roundrobin
    fullconn 50000
    option allbackups
    timeout connect 5000
    timeout server 50000
    server member-1 203.0.113.20:8080 weight 1
`;

/** A keepalived LVS config of the shape Octavia 11 renders for a UDP listener without a monitor. */
const lvsConfig = () => `# Configuration for Loadbalancer ${LB}
# Configuration for Listener ${UDP_L}

net_namespace amphora-haproxy

virtual_server ${VIP} 53 {
    lb_algo rr
    lb_kind NAT
    protocol UDP

    # Configuration for Pool pool-${UDP_L}
    # Configuration for Member member-2
    real_server 203.0.113.20 53 {
        weight 1
    }
}
`;

const brief = (r) => `${r.status} in ${r.ms} ms: ${typeof r.body === 'string' ? r.body.slice(0, 300) : JSON.stringify(r.body).slice(0, 300)}`;

/** A request that must fail in the TLS handshake: ok when it errors before any HTTP status. */
async function refused(call) {
  try {
    const r = await call();
    return { ok: false, detail: `answered ${r.status}` };
  } catch (e) {
    return { ok: true, detail: `refused: ${e.code ?? ''} ${e.message}`.trim() };
  }
}

/**
 * Runs the API checks in order; each pushes { name, ok, detail } through add. Answers the /info body.
 * req(method, path, opts) is agentRequest bound to the VM's target.
 */
export async function apiChecks({ req, amphoraId, rogueClientPem, add }) {
  // the first /info waits for the package versions (dpkg-query, three times): under qemu's software
  // emulation on a busy host that took more than 30 s (2026-12-07, host load 6); the controller's
  // own read timeout (rest_request_read_timeout) is 60 s on a real amphora
  const info = await req('GET', '/1.0/info', { timeoutMs: 120_000 });
  add('GET /1.0/info over mutual TLS', info.status === 200 && info.body?.api_version === '1.0' && typeof info.body?.haproxy_version === 'string', brief(info));
  const twoSlash = await req('GET', '//', { timeoutMs: 60_000 });
  add('GET // (what the controller sends) answers the version', twoSlash.status === 200 && twoSlash.body?.api_version === '1.0', brief(twoSlash));
  const noCert = await refused(() => req('GET', '/', { cert: null, timeoutMs: 20_000 }));
  add('a client without a certificate is refused', noCert.ok, noCert.detail);
  const rogue = await refused(() => req('GET', '/', { cert: rogueClientPem, timeoutMs: 20_000 }));
  add('a client certificate from another CA is refused', rogue.ok, rogue.detail);

  const plug = await req('POST', `/1.0/plug/vip/${VIP}`, {
    body: { subnet_cidr: '203.0.113.0/24', gateway: '203.0.113.1', mac_address: VIP_MAC, vrrp_ip: null, host_routes: [], mtu: 1500 },
    timeoutMs: 120_000,
  });
  add('POST /1.0/plug/vip plugs the VIP NIC into amphora-haproxy', plug.status === 202, brief(plug));

  const upload = await req('PUT', `/1.0/loadbalancer/${amphoraId}/${LB}/haproxy`, { body: haproxyConfig(), timeoutMs: 120_000 });
  const start = upload.status === 202 ? await req('PUT', `/1.0/loadbalancer/${LB}/start`, { timeoutMs: 180_000 }) : upload;
  add('haproxy load balancer: config uploaded (haproxy -c) and started', upload.status === 202 && start.status === 202, `upload ${brief(upload)}; start ${brief(start)}`);

  const lvs = await req('PUT', `/1.0/listeners/${amphoraId}/${UDP_L}/udp_listener`, { body: lvsConfig(), timeoutMs: 120_000 });
  const lvsStart = lvs.status === 200 ? await req('PUT', `/1.0/loadbalancer/${UDP_L}/reload`, { timeoutMs: 180_000 }) : lvs;
  add('LVS UDP listener: config uploaded and keepalived (re)started', lvs.status === 200 && lvsStart.status === 202, `upload ${brief(lvs)}; reload ${brief(lvsStart)}`);

  const list = await waitListeners(req, 90_000);
  const status = (id) => list.body?.find?.((l) => l.uuid === id)?.status;
  add('GET /1.0/listeners: the haproxy and the LVS listener are ACTIVE (daemons alive)', status(HTTP_L) === 'ACTIVE' && status(UDP_L) === 'ACTIVE', brief(list));
  const details = await req('GET', '/1.0/details', { timeoutMs: 60_000 });
  add('GET /1.0/details: one LVS keepalived process alive', details.status === 200 && details.body?.lvs_listener_process_count === 1, `lvs_listener_process_count ${details.body?.lvs_listener_process_count}, listeners ${JSON.stringify(details.body?.listeners)}`);
  return info.body;
}

/** GET /1.0/listeners until both listeners are ACTIVE or the time is up (daemons start asynchronously). */
async function waitListeners(req, ms) {
  const until = Date.now() + ms;
  for (;;) {
    const r = await req('GET', '/1.0/listeners', { timeoutMs: 60_000 });
    const active = Array.isArray(r.body) && [HTTP_L, UDP_L].every((id) => r.body.some((l) => l.uuid === id && l.status === 'ACTIVE'));
    if (active || Date.now() > until) return r;
    await new Promise((ok) => setTimeout(ok, 2000));
  }
}
