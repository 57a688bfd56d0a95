/**
 * @module test/support/ipvsadm-output
 * ipvsadm's two listings (`-Ln` and `-Ln --stats --exact`) for a table a test describes, laid
 * out column for column as ipvsadm 1.31 prints them (compare src/system/__fixtures__/ipvsadm/,
 * captured from the real one), the kernel's /proc/net/ip_vs for the same table (what the
 * reference's status reader reads), and a FakeRunner script that answers the listings.
 */
import { exploded, parseIpAddress } from '../../src/model/ip-address.js';
import type { FakeRunner } from '../fakes/fake-runner.js';

export interface TestRealServer {
  readonly address: string;
  readonly port: number;
  readonly weight?: number;
  readonly active?: number;
  readonly inactive?: number;
  /** Conns, InPkts, OutPkts, InBytes, OutBytes. */
  readonly stats?: readonly [number, number, number, number, number];
}

export interface TestVirtualServer {
  readonly protocol: 'UDP' | 'SCTP' | 'TCP';
  readonly address: string;
  readonly port: number;
  readonly scheduler?: string;
  readonly stats?: readonly [number, number, number, number, number];
  readonly realServers: readonly TestRealServer[];
}

const endpoint = (address: string, port: number) => (address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`);
const num = (n: number) => String(n).padStart(8);
const statsColumns = (s: readonly number[] = [0, 0, 0, 0, 0]) => s.map((n) => ` ${num(n)}`).join('');

export function ipvsadmList(table: readonly TestVirtualServer[]): string {
  const lines = ['IP Virtual Server version 1.2.1 (size=4096)', 'Prot LocalAddress:Port Scheduler Flags', '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn'];
  for (const vs of table) {
    lines.push(`${vs.protocol.padEnd(4)} ${endpoint(vs.address, vs.port)} ${vs.scheduler ?? 'wrr'}`);
    for (const rs of vs.realServers) {
      lines.push(`  -> ${endpoint(rs.address, rs.port).padEnd(28)} Masq    ${String(rs.weight ?? 1).padEnd(6)} ${String(rs.active ?? 0).padEnd(10)} ${String(rs.inactive ?? 0).padEnd(10)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export function ipvsadmStats(table: readonly TestVirtualServer[]): string {
  const lines = ['IP Virtual Server version 1.2.1 (size=4096)', 'Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes', '  -> RemoteAddress:Port'];
  for (const vs of table) {
    lines.push(`${vs.protocol.padEnd(4)} ${endpoint(vs.address, vs.port).padEnd(33)}${statsColumns(vs.stats)}`);
    for (const rs of vs.realServers) lines.push(`  -> ${endpoint(rs.address, rs.port).padEnd(33)}${statsColumns(rs.stats)}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Scripts `runner` to answer both listings of `table()` (read at each call) for `ipvsadm`. A start's
 * per-service look (`-L -n -u ADDR:PORT`, services/apply/start-proof.ts) finds its service: these
 * tests set the table a sampler reads after the starts, as traffic and checks would change it.
 */
export function scriptIpvsadm(runner: FakeRunner, ipvsadm: string, table: () => readonly TestVirtualServer[]): FakeRunner {
  return runner
    .on([ipvsadm, '-Ln', '--stats', '--exact'], () => ({ stdout: ipvsadmStats(table()) }))
    .on([ipvsadm, '-Ln'], () => ({ stdout: ipvsadmList(table()) }))
    .on([ipvsadm, '-L', '-n'], { exitCode: 0 });
}

/** The kernel's hex form: `AABBCCDD:PPPP`, or `[xxxx:…:xxxx]:PPPP` (eight groups) for IPv6. */
function kernelEndpoint(address: string, port: number): string {
  const ip = parseIpAddress(address);
  if (!ip) throw new Error(`not an address: ${address}`);
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  if (ip.version === 6) return `[${exploded(ip)}]:${hexPort}`;
  return `${ip.bytes.map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join('')}:${hexPort}`;
}

/** /proc/net/ip_vs (net/netfilter/ipvs/ip_vs_ctl.c, ip_vs_info_seq_show) for `table`. */
export function procIpVs(table: readonly TestVirtualServer[]): string {
  const lines = ['IP Virtual Server version 1.2.1 (size=4096)', 'Prot LocalAddress:Port Scheduler Flags', '  -> RemoteAddress:Port Forward Weight ActiveConn InActConn'];
  for (const vs of table) {
    lines.push(`${vs.protocol.padEnd(4)} ${kernelEndpoint(vs.address, vs.port)} ${vs.scheduler ?? 'wrr'} `);
    for (const rs of vs.realServers) {
      lines.push(`  -> ${kernelEndpoint(rs.address, rs.port).padEnd(18)} Masq    ${String(rs.weight ?? 1).padEnd(6)} ${String(rs.active ?? 0).padEnd(10)} ${String(rs.inactive ?? 0).padEnd(10)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
