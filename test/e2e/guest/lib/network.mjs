/**
 * @module test/e2e/guest/lib/network
 * Builds the data plane drawn in runner.mjs (bridges, namespaces, veth pairs) and runs the
 * echo backends (guest/echo-server.py) in their namespaces; keeps their processes so that a
 * scenario can kill one and the runner can stop them all at the end.
 */
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { shell } from './commands.mjs';
import { GUEST, LOGS, PY } from './context.mjs';
import { BACKENDS, CLIENT_IPS, NS_A, VIP } from './topology.mjs';

export async function setupNetwork() {
  await shell(`
    modprobe ip_vs
    ip link set lo up
    for br in br-vip br-mem; do ip link add $br type bridge; ip link set $br up; done
    ip netns add client; ip -n client link set lo up
    ip link add vc0 type veth peer name c0 netns client
    ip link set vc0 master br-vip up
    ${CLIENT_IPS.map((ip) => `ip -n client addr add ${ip}/24 dev c0`).join('\n')}
    ip -n client link set c0 up
    # amphora A: the agent's netns unit would create the namespace; plugging the VIP and member
    # ports is the controller's plug_vip/plug_network, not served yet, so the harness does it.
    ip netns add ${NS_A}; ip -n ${NS_A} link set lo up
    ip link add va1 type veth peer name eth1 netns ${NS_A}
    ip link add va2 type veth peer name eth2 netns ${NS_A}
    ip link set va1 master br-vip up; ip link set va2 master br-mem up
    ip -n ${NS_A} addr add 10.0.0.11/24 dev eth1; ip -n ${NS_A} addr add ${VIP}/32 dev eth1
    ip -n ${NS_A} addr add 10.1.0.11/24 dev eth2
    ip -n ${NS_A} link set eth1 up; ip -n ${NS_A} link set eth2 up
    ${BACKENDS.map((b) => `
    ip netns add ${b.ns}; ip -n ${b.ns} link set lo up
    ip link add v${b.name} type veth peer name eth0 netns ${b.ns}
    ip link set v${b.name} master br-mem up
    ip -n ${b.ns} addr add ${b.ip}/24 dev eth0; ip -n ${b.ns} link set eth0 up
    ip -n ${b.ns} route add default via 10.1.0.11`).join('\n')}
  `);
}

const backendProcs = new Map();
export async function startBackend(b, proto = 'udp', port = 5000) {
  const key = `${b.name}/${proto}`;
  const proc = spawn('ip', ['netns', 'exec', b.ns, PY, join(GUEST, 'echo-server.py'), b.name, String(port), proto], { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stderr.on('data', (d) => appendFileSync(join(LOGS, 'backends.log'), `${key}: ${d}`));
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${key} did not start`)), 20_000);
    createInterface({ input: proc.stdout }).once('line', () => (clearTimeout(t), resolve()));
    proc.once('exit', (c) => (clearTimeout(t), reject(new Error(`${key} exited ${c}`))));
  });
  backendProcs.set(key, proc);
  // a backend that dies on its own would look like a member the checker rightly took out
  proc.once('exit', (code, sig) => {
    if (backendProcs.get(key) === proc) appendFileSync(join(LOGS, 'backends.log'), `${key}: exited on its own (${sig ?? code}) at ${new Date().toISOString()}\n`);
  });
}
export function killBackend(b, proto = 'udp') {
  const key = `${b.name}/${proto}`;
  backendProcs.get(key)?.kill('SIGKILL');
  backendProcs.delete(key);
}
/** At the end of the run: every backend still running. */
export function stopBackends() {
  const all = [...backendProcs.values()];
  backendProcs.clear();
  for (const p of all) p.kill('SIGKILL');
}
