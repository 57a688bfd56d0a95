/**
 * @module test/e2e/guest/lib/topology
 * The fixed facts of the guest's data plane and of the two agents: addresses, namespaces,
 * backends, listener ids, the health monitor and stream settings the scenarios share, and
 * the names of the units the agents create. Constants only; the plumbing is in network.mjs.
 */
const env = process.env;

export const VIP = '10.0.0.100';
export const NS_A = 'amphora-haproxy';
export const NS_B = 'amphora-b';
export const CLIENT_IPS = ['10.0.0.2', '10.0.0.3', '10.0.0.4'];
export const BACKENDS = [1, 2, 3, 4].map((i) => ({ name: `be${i}`, ns: `be${i}`, ip: `10.1.0.2${i}` }));
export const AGENTS = {
  a: { id: env.E2E_AMPHORA_A, host: '127.0.0.1', port: 9443, ns: NS_A, base: '/var/lib/octavia', unitDir: '/usr/lib/systemd/system', prefix: '', agentUnit: 'amphora-agent' },
  b: { id: env.E2E_AMPHORA_B, host: '127.0.0.1', port: 9444, ns: NS_B, base: '/var/lib/octavia-b', unitDir: '/usr/lib/systemd/system', prefix: 'b-', agentUnit: 'amphora-agent-b' },
};
// Where both agents send their heartbeats (run.mjs writes [health_manager] with these): the
// receiver in guest/controller.py.
export const HEARTBEAT = { port: Number(env.E2E_HEARTBEAT_PORT ?? 5555), key: env.E2E_HEARTBEAT_KEY };
export const lvsUnit = (agent, id) => `${agent.prefix}octavia-keepalivedlvs-${id}`;
export const L1 = '11111111-1111-4111-8111-000000000001';
export const L1_POOL = 'bbbbbbbb-0000-4000-8000-000000000001';
export const L2 = '22222222-2222-4222-8222-000000000002';
export const L3 = '33333333-3333-4333-8333-000000000003';
// Generous for UML, where every process spawn is slow: a check (sh, bash, sleep 0.5) that
// outlives misc_timeout counts as a failure, and too tight a timeout removes healthy members.
export const HM = { type: 'UDP-CONNECT', delay: 3, timeout: 3, fall: 2 };
// The steady stream of the load scenarios: ticks per second, long-lived flows, reply timeout.
// Every datagram costs several syscalls, each a ptrace round trip under UML: more load than
// this starves keepalived's health checks in a one-CPU guest.
export const STREAM = { rate: 10, flows: 3, timeoutMs: 2000 };
export const member = (i, port = 5000, weight = 1) => ({ id: `dddddddd-0000-4000-8000-00000000000${i}`, address: `10.1.0.2${i}`, port, weight });
