/**
 * @module test/controller-vm/lib/addresses
 * The tier's networks, and the start-up check that this host routes none of them: every test
 * address lives in a namespace the run creates, never in the host's own (whose eth0 sits in
 * 192.0.2.0/24 with 192.0.2.1 as gateway on these machines).
 */
import { execFileSync } from 'node:child_process';

/** Management (controller 172.29.0.2, amphora VM of slot k 172.29.0.(10+k)) and VIP network. */
export const NETWORKS = { management: '172.29.0.0/24', vip: '198.51.100.0/24' };

const toInt = (ip) => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
function range(cidr) {
  const [ip, len = '32'] = cidr.split('/');
  const size = 2 ** (32 - Number(len));
  const start = Math.floor(toInt(ip) / size) * size;
  return [start, start + size - 1];
}
const overlaps = (a, b) => {
  const [a0, a1] = range(a);
  const [b0, b1] = range(b);
  return a0 <= b1 && b0 <= a1;
};

/**
 * What the host namespace has in the tier's networks: its own addresses and any route other
 * than a default one. Empty means the tier's traffic cannot leak into the host's routing.
 */
export function hostClashes(networks = Object.values(NETWORKS)) {
  const out = [];
  const addrs = JSON.parse(execFileSync('ip', ['-j', '-4', 'addr'], { encoding: 'utf8' }));
  for (const link of addrs) {
    for (const a of link.addr_info ?? []) {
      for (const net of networks) if (overlaps(`${a.local}/32`, net)) out.push(`${a.local} on ${link.ifname} is in ${net}`);
    }
  }
  const routes = JSON.parse(execFileSync('ip', ['-j', '-4', 'route', 'show', 'table', 'all'], { encoding: 'utf8' }));
  for (const r of routes) {
    if (!r.dst || r.dst === 'default' || r.type === 'broadcast') continue;
    const dst = r.dst.includes('/') ? r.dst : `${r.dst}/32`;
    for (const net of networks) if (overlaps(dst, net)) out.push(`route ${r.dst} (${r.dev ?? r.type}, table ${r.table ?? 'main'}) covers ${net}`);
  }
  return out;
}
