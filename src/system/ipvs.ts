/**
 * @module system/ipvs
 * The kernel's IPVS table inside a namespace, read with two `ipvsadm` runs through the
 * ProcessRunner it is handed: `-Ln` (scheduler, flags, and per real server its forwarding
 * method, weight and connections) and `-Ln --stats --exact` (the counters, as plain integers).
 * Pure parsers of both outputs, and their merge into typed virtual servers with their real
 * servers. Addresses are canonical (model/ip-address), so a config's spelling compares equal.
 * A kernel without IPVS is a typed answer, not an error; knows nothing of listeners or members.
 */
import { CommandFailed } from '../model/errors.js';
import { parseIpAddress } from '../model/ip-address.js';
import { outputTail, type ProcessRunner } from './exec.js';

export type IpvsProtocol = 'TCP' | 'UDP' | 'SCTP';

/** Counters of one virtual or real server since it was added (`--stats --exact`). */
export interface IpvsStats {
  readonly conns: number;
  readonly inPackets: number;
  readonly outPackets: number;
  readonly inBytes: number;
  readonly outBytes: number;
}

export interface IpvsRealServer {
  readonly address: string;
  readonly port: number;
  /** Masq, Local, Route, Tunnel…; null when only the stats listing had it. */
  readonly forward: string | null;
  readonly weight: number | null;
  readonly activeConns: number;
  readonly inactiveConns: number;
  /** null when the stats listing did not have it (it changed between the two runs). */
  readonly stats: IpvsStats | null;
}

export interface IpvsVirtualServer {
  readonly protocol: IpvsProtocol;
  readonly address: string;
  readonly port: number;
  readonly scheduler: string;
  /** `persistent <timeout> [mask <m>] [pe <engine>]`, or null. */
  readonly persistence: { readonly timeout: number; readonly mask: string | null; readonly engine: string | null } | null;
  /** One-packet scheduling (`ops`). */
  readonly onePacket: boolean;
  /** Scheduler flags and any other word the service line has (e.g. `sh-port`). */
  readonly flags: readonly string[];
  readonly stats: IpvsStats | null;
  readonly realServers: readonly IpvsRealServer[];
}

export type IpvsLook =
  | { readonly kind: 'table'; readonly virtualServers: readonly IpvsVirtualServer[] }
  /** The kernel has no IPVS (ipvsadm: "Can't initialize ipvs"): nothing can be in it. */
  | { readonly kind: 'unavailable'; readonly reason: string };

/** One service line of a listing and the real server lines under it, split into words. */
interface Block {
  readonly protocol: IpvsProtocol;
  readonly address: string;
  readonly port: number;
  readonly rest: readonly string[];
  readonly realServers: { readonly address: string; readonly port: number; readonly rest: readonly string[] }[];
}

const SERVICE = /^(TCP|UDP|SCTP)\s+(\S+)\s*(.*)$/;
const FWMARK = /^FWM\s/;
const REAL_SERVER = /^\s+->\s+(\S+)\s*(.*)$/;

/** `10.0.0.1:80` or `[2001:db8::1]:80` → canonical address and port; throws on anything else. */
export function parseEndpoint(text: string): { address: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  const ip = m ? parseIpAddress(m[1] ?? '') : undefined;
  const port = Number(m?.[2]);
  if (!ip || !Number.isInteger(port) || port > 65535) throw new Error(`ipvsadm: not an address:port: ${JSON.stringify(text)}`);
  return { address: ip.text, port };
}

const words = (text: string): string[] => text.trim().split(/\s+/).filter((w) => w !== '');

/**
 * The blocks of one listing. Header lines are skipped; the real servers of a firewall-mark
 * service are dropped with it (the agent renders none), instead of being taken for the
 * previous service's, as the reference's reader of this output does.
 */
function blocks(output: string): Block[] {
  const out: Block[] = [];
  let current: Block | null = null;
  for (const line of output.split('\n')) {
    const service = SERVICE.exec(line);
    if (service) {
      current = { protocol: service[1] as IpvsProtocol, ...parseEndpoint(service[2] ?? ''), rest: words(service[3] ?? ''), realServers: [] };
      out.push(current);
      continue;
    }
    if (FWMARK.test(line)) current = null;
    const rs = REAL_SERVER.exec(line);
    // the column header `  -> RemoteAddress:Port …` is not a real server
    if (!rs || rs[1] === 'RemoteAddress:Port' || current === null) continue;
    current.realServers.push({ ...parseEndpoint(rs[1] ?? ''), rest: words(rs[2] ?? '') });
  }
  return out;
}

const count = (word: string | undefined, what: string): number => {
  const n = Number(word);
  if (word === undefined || !/^\d+$/.test(word) || !Number.isSafeInteger(n)) throw new Error(`ipvsadm: ${what} is not a count: ${JSON.stringify(word)}`);
  return n;
};

const statsOf = (rest: readonly string[], what: string): IpvsStats => ({
  conns: count(rest[0], `${what} Conns`),
  inPackets: count(rest[1], `${what} InPkts`),
  outPackets: count(rest[2], `${what} OutPkts`),
  inBytes: count(rest[3], `${what} InBytes`),
  outBytes: count(rest[4], `${what} OutBytes`),
});

const keyOf = (b: { protocol?: string; address: string; port: number }) => `${b.protocol ?? ''} ${ipvsEndpoint(b.address, b.port)}`;

/** The words after the scheduler: `persistent N`, `mask M`, `pe E`, `ops`, scheduler flags. */
function serviceFlags(rest: readonly string[]): Pick<IpvsVirtualServer, 'persistence' | 'onePacket' | 'flags'> {
  let persistence: { timeout: number; mask: string | null; engine: string | null } | null = null;
  let onePacket = false;
  const flags: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const w = rest[i] ?? '';
    if (w === 'persistent') persistence = { timeout: count(rest[++i], 'persistence timeout'), mask: null, engine: null };
    else if (w === 'mask' && persistence) persistence.mask = rest[++i] ?? null;
    else if (w === 'pe' && persistence) persistence.engine = rest[++i] ?? null;
    else if (w === 'ops') onePacket = true;
    // scheduler flags are printed in parentheses, comma-separated
    else flags.push(...w.replace(/[()]/g, '').split(',').filter((f) => f !== ''));
  }
  return { persistence, onePacket, flags };
}

/** `ipvsadm -Ln`: the virtual servers with scheduler and flags, real servers with Forward, Weight, ActiveConn, InActConn. */
export function parseIpvsList(output: string): IpvsVirtualServer[] {
  return blocks(output).map((b) => ({
    protocol: b.protocol,
    address: b.address,
    port: b.port,
    scheduler: b.rest[0] ?? '',
    ...serviceFlags(b.rest.slice(1)),
    stats: null,
    realServers: b.realServers.map((rs) => ({
      address: rs.address,
      port: rs.port,
      forward: rs.rest[0] ?? null,
      weight: count(rs.rest[1], 'Weight'),
      activeConns: count(rs.rest[2], 'ActiveConn'),
      inactiveConns: count(rs.rest[3], 'InActConn'),
      stats: null,
    })),
  }));
}

export interface IpvsStatsEntry {
  readonly protocol: IpvsProtocol;
  readonly address: string;
  readonly port: number;
  readonly stats: IpvsStats;
  readonly realServers: readonly { readonly address: string; readonly port: number; readonly stats: IpvsStats }[];
}

/** `ipvsadm -Ln --stats --exact`: Conns, InPkts, OutPkts, InBytes, OutBytes per virtual and real server. */
export function parseIpvsStats(output: string): IpvsStatsEntry[] {
  return blocks(output).map((b) => ({
    protocol: b.protocol,
    address: b.address,
    port: b.port,
    stats: statsOf(b.rest, 'virtual server'),
    realServers: b.realServers.map((rs) => ({ address: rs.address, port: rs.port, stats: statsOf(rs.rest, 'real server') })),
  }));
}

/**
 * The listing with the counters of the stats listing. The two runs are two moments: a virtual
 * or real server only in the listing gets null stats; one only in the stats listing is left out
 * (keepalived added it in between; the next look has it).
 */
export function mergeIpvs(list: readonly IpvsVirtualServer[], stats: readonly IpvsStatsEntry[]): IpvsVirtualServer[] {
  const byKey = new Map(stats.map((s) => [keyOf(s), s]));
  return list.map((vs) => {
    const s = byKey.get(keyOf(vs));
    const rsStats = new Map((s?.realServers ?? []).map((rs) => [keyOf(rs), rs.stats]));
    return { ...vs, stats: s?.stats ?? null, realServers: vs.realServers.map((rs) => ({ ...rs, stats: rsStats.get(keyOf(rs)) ?? null })) };
  });
}

/** ipvsadm's words when the kernel has no IPVS (it tried to load ip_vs and could not). */
const NO_IPVS = /Can't initialize ipvs/i;

/** ipvsadm's line saying the kernel has no IPVS, when its output has one. */
function noIpvsReason(output: string): string | undefined {
  if (!NO_IPVS.test(output)) return undefined;
  return output.trim().split('\n').find((l) => NO_IPVS.test(l)) ?? output.trim();
}

/** `ADDR:PORT` as ipvsadm writes and takes it: an IPv6 address in brackets. */
export function ipvsEndpoint(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * One look at the IPVS table inside `netns`: two ipvsadm runs, whatever the number of virtual
 * servers. Throws CommandFailed when ipvsadm fails for another reason (missing, timed out, no
 * such namespace), and Error when its output cannot be read.
 */
export async function readIpvs(runner: ProcessRunner, ipvsadm: string, netns: string): Promise<IpvsLook> {
  const [list, stats] = await Promise.all([
    runner.run(ipvsadm, ['-Ln'], { netns, allowFailure: true }),
    runner.run(ipvsadm, ['-Ln', '--stats', '--exact'], { netns, allowFailure: true }),
  ]);
  for (const r of [list, stats]) {
    if (r.exitCode === 0) continue;
    const reason = noIpvsReason(r.output);
    if (reason !== undefined) return { kind: 'unavailable', reason };
    throw new CommandFailed(r.argv, r.exitCode, outputTail(r.output));
  }
  return { kind: 'table', virtualServers: mergeIpvs(parseIpvsList(list.stdout), parseIpvsStats(stats.stdout)) };
}

const SERVICE_OPTION: Record<IpvsProtocol, string> = { TCP: '-t', UDP: '-u', SCTP: '--sctp-service' };

/**
 * Whether the namespace's IPVS has one service (`ipvsadm -L -n -u ADDR:PORT`: the kernel answers
 * for that service alone). 'unavailable': the kernel has no IPVS. Any other failure (ipvsadm's
 * "No such service") reads as absent: the caller looks again until its deadline.
 */
export async function ipvsServiceState(runner: ProcessRunner, ipvsadm: string, netns: string, service: { readonly protocol: IpvsProtocol; readonly address: string; readonly port: number }): Promise<'present' | 'absent' | { readonly unavailable: string }> {
  const r = await runner.run(ipvsadm, ['-L', '-n', SERVICE_OPTION[service.protocol], ipvsEndpoint(service.address, service.port)], { netns, allowFailure: true });
  if (r.exitCode === 0) return 'present';
  const reason = noIpvsReason(r.output);
  return reason === undefined ? 'absent' : { unavailable: reason };
}
