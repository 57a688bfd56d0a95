/**
 * The IPVS parsers on real ipvsadm 1.31 outputs (src/system/__fixtures__/ipvsadm/, captured in
 * the VM tier's IPVS kernel by test/e2e/vm/probes/ipvsadm-outputs.sh: UDP with weights 1, 3 and
 * 0, persistence with a mask, one-packet scheduling, scheduler flags, a service without real
 * servers, SCTP, TCP, IPv6 with persistence, a firewall mark, after a few datagrams), and
 * readIpvs through the FakeRunner: its two commands, a kernel without IPVS, another failure.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../test/fakes/fake-runner.js';
import { CommandFailed } from '../model/errors.js';
import { mergeIpvs, parseEndpoint, parseIpvsList, parseIpvsStats, readIpvs, type IpvsVirtualServer } from './ipvs.js';

const fixture = (name: string) => readFileSync(new URL(`./__fixtures__/ipvsadm/${name}.txt`, import.meta.url), 'utf8');
const LIST = fixture('list');
const STATS = fixture('stats-exact');

const find = (all: readonly IpvsVirtualServer[], protocol: string, address: string, port: number) => {
  const vs = all.find((v) => v.protocol === protocol && v.address === address && v.port === port);
  if (!vs) throw new Error(`no ${protocol} ${address}:${port}`);
  return vs;
};

/** What the host's ipvsadm printed here, where the kernel has no IPVS (exit 2). */
const NO_IPVS_OUTPUT =
  'modprobe: FATAL: Module ip_vs not found in directory /lib/modules/6.18.44\nCan\'t initialize ipvs: Protocol not available\nAre you sure that IP Virtual Server is built in the kernel or as module?\n';

describe('parseIpvsList (ipvsadm -Ln)', () => {
  const all = parseIpvsList(LIST);

  it('reads every TCP, UDP and SCTP virtual server, IPv4 and IPv6, and leaves the firewall mark and its real server out', () => {
    expect(all.map((v) => `${v.protocol} ${v.address}:${v.port}`)).toEqual([
      'TCP 10.0.0.100:80',
      'UDP 10.0.0.100:5000',
      'UDP 10.0.0.100:5001',
      'UDP 10.0.0.100:5002',
      'UDP 10.0.0.100:5003',
      'UDP 10.0.0.100:5005',
      'UDP 10.0.0.100:5010',
      'SCTP 10.0.0.100:5004',
      'UDP 2001:db8::100:5000',
    ]);
    expect(all.flatMap((v) => v.realServers).some((rs) => rs.address === '10.1.0.24')).toBe(false);
  });

  it('reads the forwarding method, weight (0 included) and connections of each real server', () => {
    const vs = find(all, 'UDP', '10.0.0.100', 5000);
    expect(vs.scheduler).toBe('wrr');
    expect(vs.persistence).toBeNull();
    expect(vs.realServers).toEqual([
      { address: '10.1.0.21', port: 5000, forward: 'Masq', weight: 1, activeConns: 0, inactiveConns: 2, stats: null },
      { address: '10.1.0.22', port: 5000, forward: 'Masq', weight: 3, activeConns: 0, inactiveConns: 4, stats: null },
      { address: '10.1.0.23', port: 5000, forward: 'Masq', weight: 0, activeConns: 0, inactiveConns: 0, stats: null },
    ]);
  });

  it('reads persistence with its mask, one-packet scheduling and scheduler flags from the service line', () => {
    expect(find(all, 'UDP', '10.0.0.100', 5001)).toMatchObject({ scheduler: 'sh', persistence: { timeout: 360, mask: '255.255.255.0', engine: null }, onePacket: false });
    expect(find(all, 'UDP', '10.0.0.100', 5002)).toMatchObject({ scheduler: 'rr', persistence: null, onePacket: true, flags: [] });
    expect(find(all, 'UDP', '10.0.0.100', 5003)).toMatchObject({ scheduler: 'sh', flags: ['sh-fallback', 'sh-port'] });
    expect(find(all, 'UDP', '10.0.0.100', 5005)).toMatchObject({ scheduler: 'wlc', persistence: { timeout: 60, mask: null }, realServers: [] });
    const v6 = find(all, 'UDP', '2001:db8::100', 5000);
    expect(v6).toMatchObject({ scheduler: 'wrr', persistence: { timeout: 60, mask: '64' } });
    expect(v6.realServers.map((rs) => [rs.address, rs.port, rs.weight, rs.inactiveConns])).toEqual([
      ['2001:db8:1::21', 5000, 2, 0],
      ['2001:db8:1::22', 5000, 1, 1],
    ]);
    expect(find(all, 'SCTP', '10.0.0.100', 5004).realServers).toHaveLength(1);
  });

  it('reads the empty table as no virtual server', () => {
    expect(parseIpvsList(fixture('empty'))).toEqual([]);
  });
});

describe('parseIpvsStats (ipvsadm -Ln --stats --exact)', () => {
  const all = parseIpvsStats(STATS);

  it('reads Conns, InPkts, OutPkts, InBytes and OutBytes of every virtual and real server', () => {
    const vs = all.find((v) => v.protocol === 'UDP' && v.address === '10.0.0.100' && v.port === 5000);
    expect(vs?.stats).toEqual({ conns: 6, inPackets: 6, outPackets: 6, inBytes: 204, outBytes: 372 });
    expect(vs?.realServers.map((rs) => [rs.address, rs.stats.conns, rs.stats.inBytes, rs.stats.outBytes])).toEqual([
      ['10.1.0.21', 2, 68, 124],
      ['10.1.0.22', 4, 136, 248],
      ['10.1.0.23', 0, 0, 0],
    ]);
    const v6 = all.find((v) => v.address === '2001:db8::100');
    expect(v6?.stats).toEqual({ conns: 1, inPackets: 1, outPackets: 0, inBytes: 55, outBytes: 0 });
    expect(all).toHaveLength(9);
  });

  it('refuses a rounded figure (output without --exact) instead of reading a wrong number', () => {
    const rounded = STATS.replace(/(UDP {2}10\.0\.0\.100:5000 +)6 +6 +6 +204 +372/, '$1 6 6 6 2K 3K');
    expect(() => parseIpvsStats(rounded)).toThrow(/InBytes is not a count: "2K"/);
  });
});

describe('mergeIpvs', () => {
  it('gives each virtual and real server of the listing its counters', () => {
    const merged = mergeIpvs(parseIpvsList(LIST), parseIpvsStats(STATS));
    expect(merged.every((v) => v.stats !== null && v.realServers.every((rs) => rs.stats !== null))).toBe(true);
    expect(find(merged, 'UDP', '10.0.0.100', 5000).realServers[1]).toEqual({
      address: '10.1.0.22',
      port: 5000,
      forward: 'Masq',
      weight: 3,
      activeConns: 0,
      inactiveConns: 4,
      stats: { conns: 4, inPackets: 4, outPackets: 4, inBytes: 136, outBytes: 248 },
    });
  });

  it('leaves null counters where the stats listing, taken a moment later, no longer has the server', () => {
    const stats = parseIpvsStats(STATS)
      .filter((v) => v.port !== 5002)
      .map((v) => (v.port === 5000 && v.address === '10.0.0.100' ? { ...v, realServers: v.realServers.filter((rs) => rs.address !== '10.1.0.23') } : v));
    const merged = mergeIpvs(parseIpvsList(LIST), stats);
    expect(find(merged, 'UDP', '10.0.0.100', 5002).stats).toBeNull();
    expect(find(merged, 'UDP', '10.0.0.100', 5000).realServers.map((rs) => rs.stats === null)).toEqual([false, false, true]);
  });

  it('keeps UDP and TCP services on one address and port apart', () => {
    const list = 'UDP  10.0.0.1:53 rr\n  -> 10.1.0.1:53 Masq 1 0 0\nTCP  10.0.0.1:53 rr\n  -> 10.1.0.2:53 Masq 1 0 0\n';
    const stats = 'UDP  10.0.0.1:53 1 2 3 4 5\n  -> 10.1.0.1:53 1 2 3 4 5\nTCP  10.0.0.1:53 9 9 9 9 9\n  -> 10.1.0.2:53 9 9 9 9 9\n';
    const merged = mergeIpvs(parseIpvsList(list), parseIpvsStats(stats));
    expect(merged.map((v) => [v.protocol, v.stats?.conns, v.realServers.map((rs) => rs.address)])).toEqual([
      ['UDP', 1, ['10.1.0.1']],
      ['TCP', 9, ['10.1.0.2']],
    ]);
  });
});

describe('parseEndpoint', () => {
  it('reads IPv4 and bracketed IPv6 endpoints into canonical addresses', () => {
    expect(parseEndpoint('10.0.0.100:5000')).toEqual({ address: '10.0.0.100', port: 5000 });
    expect(parseEndpoint('[2001:DB8:0::0:1]:53')).toEqual({ address: '2001:db8::1', port: 53 });
  });

  it('refuses what is not an address and port', () => {
    for (const bad of ['10.0.0.100', '2001:db8::1:53', 'host:80', '10.0.0.1:70000', '[10.0.0.1]:x']) expect(() => parseEndpoint(bad)).toThrow(/not an address:port/);
  });
});

describe('readIpvs', () => {
  const NS = 'amphora-haproxy';
  const IPVSADM = '/usr/sbin/ipvsadm';

  it('runs ipvsadm twice inside the namespace and merges both listings', async () => {
    const runner = new FakeRunner().on([IPVSADM, '-Ln', '--stats', '--exact'], { stdout: STATS }).on([IPVSADM, '-Ln'], { stdout: LIST });
    const look = await readIpvs(runner, IPVSADM, NS);
    expect(runner.calls.map((c) => c.join(' ')).sort()).toEqual([`ip netns exec ${NS} ${IPVSADM} -Ln`, `ip netns exec ${NS} ${IPVSADM} -Ln --stats --exact`]);
    expect(look.kind).toBe('table');
    if (look.kind !== 'table') return;
    expect(look.virtualServers).toHaveLength(9);
    expect(find(look.virtualServers, 'SCTP', '10.0.0.100', 5004).stats?.conns).toBe(0);
  });

  it('answers "unavailable" with ipvsadm\'s reason when the kernel has no IPVS', async () => {
    const runner = new FakeRunner().on([IPVSADM], { exitCode: 2, stderr: NO_IPVS_OUTPUT });
    expect(await readIpvs(runner, IPVSADM, NS)).toEqual({ kind: 'unavailable', reason: "Can't initialize ipvs: Protocol not available" });
  });

  it('throws CommandFailed on any other failure', async () => {
    const runner = new FakeRunner().on(['ip', 'netns', 'exec'], { exitCode: 255, stderr: 'Cannot open network namespace "amphora-haproxy": No such file or directory\n' });
    const err = await readIpvs(runner, IPVSADM, NS).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandFailed);
    expect((err as CommandFailed).output).toContain('Cannot open network namespace');
  });
});
