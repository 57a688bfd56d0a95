/**
 * @module test/support/keepalived-lvs-normalize
 * What keepalived/IPVS treat as the same service: `normalizeLvs` folds a parsed LVS config
 * (test/support/keepalived-lvs-parse.ts) by the few equivalences listed here and nothing else,
 * so that two configs written differently compare by meaning: schedulers, the default
 * granularity, empty virtual servers and the UDP-CONNECT probe. Test code only.
 */
import { endpoint } from './keepalived-blocks.js';
import type { LvsCheck, LvsConfig, LvsRealServer } from './keepalived-lvs-types.js';

export interface NormalizedVirtualServer {
  readonly scheduler: string | null;
  readonly lbKind: string | null;
  readonly ops: boolean;
  readonly persistence: { readonly timeout: number | null; readonly granularity: string } | null;
  readonly timers: { readonly delayLoop: number | null; readonly delayBeforeRetry: number | null; readonly retry: number | null };
  /** Sorted by `addr:port`. */
  readonly realServers: readonly LvsRealServer[];
  readonly other: readonly string[];
}

export interface NormalizedLvs {
  readonly namespace: string | null;
  /** Keyed by `ipv<family> <sorted vips> <protocol>`. */
  readonly virtualServers: Readonly<Record<string, NormalizedVirtualServer>>;
  readonly other: readonly string[];
}

/**
 * IPVS scheduler names folded into the Octavia algorithm they implement. The caller asserts
 * separately which variant a renderer chose (the agent's are the weighted ones).
 */
const SCHEDULER_FAMILY: Readonly<Record<string, string>> = {
  // rr and wrr cycle through the real servers alike when their weights are equal, and both skip weight 0
  rr: 'ROUND_ROBIN',
  wrr: 'ROUND_ROBIN',
  // lc and wlc pick the server with the fewest connections alike when the weights are equal, and both skip weight 0
  lc: 'LEAST_CONNECTIONS',
  wlc: 'LEAST_CONNECTIONS',
  // one hash scheduler by that name in IPVS: nothing to fold, only named after its algorithm
  sh: 'SOURCE_IP',
};

/** keepalived's granularity when none is given: the whole address (ip_vs persists per client address). */
const DEFAULT_GRANULARITY: Record<4 | 6, string> = { 4: '255.255.255.255', 6: '128' };

const rsKey = (r: LvsRealServer): string => endpoint(r.address, r.port, 0);

/**
 * The UDP-CONNECT probe two ways: Octavia's MISC_CHECK running `<base>/lvs/check/udp_check.sh
 * ADDR PORT` (nc -uz sends "X" datagrams to ADDR:PORT and fails on an ICMP unreachable) is folded
 * into what the agent renders for it, keepalived's UDP_CHECK to ADDR:PORT sending one "X"
 * (payload 58), both bounded by the monitor's timeout (misc_timeout, connect_timeout). ADR 0004
 * gives the evidence that the two decide alike; any other MISC_CHECK is left as it is.
 */
function foldUdpConnect(c: LvsCheck): LvsCheck {
  const path = c.miscPath;
  if (c.kind !== 'MISC_CHECK' || path?.length !== 3 || !path[0]?.endsWith('/lvs/check/udp_check.sh')) return c;
  return { ...c, kind: 'UDP_CHECK', connectIp: path[1] ?? null, connectPort: Number(path[2]), miscPath: null, other: [...c.other, 'payload 58'] };
}

export function normalizeLvs(config: LvsConfig): NormalizedLvs {
  const virtualServers: Record<string, NormalizedVirtualServer> = {};
  for (const vs of config.virtualServers) {
    // keepalived does not set up a virtual server without real servers ("has no real servers - ignoring")
    if (vs.realServers.length === 0) continue;
    const key = `ipv${vs.family} ${vs.vips.join(',')} ${vs.protocol ?? '(no protocol)'}`;
    if (key in virtualServers) throw new Error(`two virtual servers for ${key}`);
    const persistent = vs.persistenceTimeout !== null || vs.persistenceGranularity !== null;
    virtualServers[key] = {
      scheduler: vs.scheduler === null ? null : (SCHEDULER_FAMILY[vs.scheduler] ?? vs.scheduler),
      lbKind: vs.lbKind,
      ops: vs.ops,
      persistence: persistent
        ? // an absent granularity is keepalived's default, the full mask of the family
          { timeout: vs.persistenceTimeout, granularity: vs.persistenceGranularity ?? DEFAULT_GRANULARITY[vs.family] }
        : null,
      timers: { delayLoop: vs.delayLoop, delayBeforeRetry: vs.delayBeforeRetry, retry: vs.retry },
      // IPVS keeps its destinations as a set; the order in the file is not part of the service
      realServers: [...vs.realServers].map((r) => ({ ...r, checks: r.checks.map(foldUdpConnect) })).sort((a, b) => rsKey(a).localeCompare(rsKey(b))),
      other: vs.other,
    };
  }
  return { namespace: config.namespace, virtualServers, other: config.other };
}
