/**
 * lvsListenerSample against an IPVS table of many listeners: each listener finds its own virtual
 * servers (protocol, address and port) through the index of one look (indexIpvs), with the same
 * sample as from the plain list, and nothing of another listener's.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseLvsLayout } from '../../model/lvs-layout.js';
import type { IpvsProtocol, IpvsVirtualServer } from '../../system/ipvs.js';
import { indexIpvs, lvsListenerSample } from './lvs-status.js';

const udpConnect = parseLvsLayout(readFileSync(new URL('../../model/__fixtures__/octavia-lvs/udp-connect.conf', import.meta.url), 'utf8'));
const stats = (n: number) => ({ conns: n, inPackets: n, outPackets: n, inBytes: n * 100, outBytes: n * 100 });

/** A virtual server with one real server per member address of the udp-connect render. */
function vs(protocol: IpvsProtocol, address: string, port: number, n: number): IpvsVirtualServer {
  return {
    protocol, address, port, scheduler: 'wrr', persistence: null, onePacket: false, flags: [], stats: stats(n),
    realServers: ['198.51.100.11', '198.51.100.12'].map((a) => ({ address: a, port: 5353, forward: 'Masq', weight: 1, activeConns: n, inactiveConns: 0, stats: stats(n) })),
  };
}

describe('lvsListenerSample with an indexed IPVS table', () => {
  // the listener's own virtual server (203.0.113.10:53 UDP) among 500 others, one of them
  // on the same address and port over SCTP
  const table = [
    ...Array.from({ length: 500 }, (_, i) => vs('UDP', '203.0.113.10', 1000 + i, 1)),
    vs('SCTP', '203.0.113.10', 53, 7),
    vs('UDP', '203.0.113.10', 53, 3),
  ];
  const input = { id: 'l1', protocol: 'UDP' as const, layout: udpConnect, restarting: false };

  it('gives the same sample from the index as from the list', () => {
    expect(lvsListenerSample({ ...input, ipvs: indexIpvs(table) })).toEqual(lvsListenerSample({ ...input, ipvs: table }));
  });

  it("counts only the listener's own virtual server, not the SCTP one on its address and port", () => {
    const sample = lvsListenerSample({ ...input, ipvs: indexIpvs(table) });
    expect(sample.ipvs).toEqual(stats(3));
    expect(sample.members.filter((m) => m.inIpvs).map((m) => m.address)).toEqual(['198.51.100.11', '198.51.100.12']);
  });

  it('finds nothing for a listener whose virtual server is not in IPVS', () => {
    const sample = lvsListenerSample({ ...input, ipvs: indexIpvs(table.slice(0, 500)) });
    expect(sample.ipvs).toBeNull();
    expect(sample.members.every((m) => !m.inIpvs)).toBe(true);
  });

  it('keeps every virtual server of one key (two looks that list one twice)', () => {
    const index = indexIpvs([vs('UDP', '203.0.113.10', 53, 1), vs('UDP', '203.0.113.10', 53, 2)]);
    expect(index.get('UDP 203.0.113.10 53')).toHaveLength(2);
    expect(lvsListenerSample({ ...input, ipvs: index }).ipvs).toEqual(stats(3));
  });
});
