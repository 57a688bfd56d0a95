/**
 * @module test/e2e/guest/lib/ipvs
 * What IPVS in a namespace holds, read with ipvsadm: virtual and real servers, connection
 * entries, packet counters, and whether a service matches a list of members.
 */
import { nsx } from './commands.mjs';

function parseIpvs(text) {
  const services = [];
  for (const line of text.split('\n')) {
    const s = /^(TCP|UDP|SCTP|FWM)\s+(\S+)\s+(\S+)(.*)$/.exec(line);
    if (s) {
      const p = /persistent (\d+)/.exec(s[4]);
      services.push({ proto: s[1], vip: s[2], sched: s[3], persistent: p ? Number(p[1]) : null, ops: /\bops\b/.test(s[4]), dests: [] });
      continue;
    }
    const d = /^\s+->\s+(\d\S+)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)/.exec(line);
    if (d && services.length) services.at(-1).dests.push({ addr: d[1], fwd: d[2], weight: Number(d[3]), active: Number(d[4]), inact: Number(d[5]) });
  }
  return services;
}
export async function ipvs(ns) {
  const r = await nsx(ns, 'ipvsadm', ['-Ln'], { allowFail: true });
  return r.code === 0 ? parseIpvs(r.out) : [];
}
export async function ipvsConnections(ns) {
  const r = await nsx(ns, 'ipvsadm', ['-Lnc'], { allowFail: true });
  return r.out.split('\n').filter((l) => /^(UDP|TCP|SCTP)/.test(l));
}
/** Counters of one virtual server and its real servers (`ipvsadm -Ln --stats --exact`): Conns, InPkts, OutPkts, InBytes, OutBytes. */
export async function ipvsStats(ns, vipPort) {
  const r = await nsx(ns, 'ipvsadm', ['-Ln', '--stats', '--exact'], { allowFail: true });
  const out = { service: null, dests: {} };
  let mine = false;
  for (const line of r.out.split('\n')) {
    const s = /^(TCP|UDP|SCTP)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/.exec(line);
    if (s) {
      mine = s[2] === vipPort;
      if (mine) out.service = { conns: Number(s[3]), inPkts: Number(s[4]), outPkts: Number(s[5]), inBytes: Number(s[6]), outBytes: Number(s[7]) };
      continue;
    }
    const d = /^\s+->\s+(\d\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/.exec(line);
    if (d && mine) out.dests[d[1]] = { conns: Number(d[2]), inPkts: Number(d[3]), outPkts: Number(d[4]), inBytes: Number(d[5]), outBytes: Number(d[6]) };
  }
  return out;
}
/** Per real server: counters of `after` minus those of `before`. */
export function statsDelta(before, after) {
  const out = {};
  for (const [addr, a] of Object.entries(after.dests)) {
    const b = before.dests[addr] ?? { conns: 0, inPkts: 0, outPkts: 0 };
    out[addr] = { conns: a.conns - b.conns, inPkts: a.inPkts - b.inPkts, outPkts: a.outPkts - b.outPkts };
  }
  return out;
}
export const destKey = (dests) => dests.map((d) => `${d.addr}/${d.weight}`).sort().join(' ');
const memberKey = (members) => members.map((m) => `${m.address}:${m.port}/${m.weight ?? 1}`).sort().join(' ');
export async function serviceMatches(ns, proto, vipPort, members) {
  const svc = (await ipvs(ns)).find((s) => s.proto === proto && s.vip === vipPort);
  return svc !== undefined && destKey(svc.dests) === memberKey(members) ? svc : null;
}
