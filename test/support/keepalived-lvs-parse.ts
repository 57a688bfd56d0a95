/**
 * @module test/support/keepalived-lvs-parse
 * Reads the text of a keepalived LVS config into what keepalived turns it into (virtual
 * servers, real servers, checks), so that two configs written differently can be compared by
 * meaning: the agent's and the one Octavia's templater writes (test/integration/lvs-equivalence).
 *
 * `parseKeepalivedBlocks` is the syntax (words, quoted strings, `{ }` blocks, comments:
 * test/support/keepalived-blocks.ts); `parseLvsConfig` picks out the LVS directives, keeping
 * every value as it was written and every directive it does not know in an `other` list, so
 * nothing is dropped unseen (real servers and checks: test/support/keepalived-lvs-real-server.ts);
 * `normalizeLvs` applies the few equivalences listed in test/support/keepalived-lvs-normalize.ts
 * and nothing else. This module is the one to import: it exports all of them. Test code only:
 * it understands the directives the two renderers use, not all of keepalived.
 */
import { endpoint, int, parseKeepalivedBlocks, show, word, type Statement } from './keepalived-blocks.js';
import { parseRealServer } from './keepalived-lvs-real-server.js';
import type { LvsConfig, LvsRealServer, LvsVirtualServer } from './keepalived-lvs-types.js';

export { parseKeepalivedBlocks, type Statement } from './keepalived-blocks.js';
export { normalizeLvs, type NormalizedLvs, type NormalizedVirtualServer } from './keepalived-lvs-normalize.js';
export type { LvsCheck, LvsConfig, LvsRealServer, LvsVirtualServer } from './keepalived-lvs-types.js';

/** The directives of a virtual server that set one field of it; the last of a repeated one wins, as in keepalived. */
type VirtualServerFields = { -readonly [K in Exclude<keyof LvsVirtualServer, 'realServers' | 'other'>]: LvsVirtualServer[K] };
const WORD_DIRECTIVES = new Map<string, 'protocol' | 'scheduler' | 'lbKind' | 'persistenceGranularity'>([
  ['protocol', 'protocol'],
  ['lb_algo', 'scheduler'],
  ['lb_kind', 'lbKind'],
  ['persistence_granularity', 'persistenceGranularity'],
]);
const INT_DIRECTIVES = new Map<string, 'persistenceTimeout' | 'delayLoop' | 'delayBeforeRetry' | 'retry'>([
  ['persistence_timeout', 'persistenceTimeout'],
  ['delay_loop', 'delayLoop'],
  ['delay_before_retry', 'delayBeforeRetry'],
  ['retry', 'retry'],
]);

/** The sorted `addr:port`s of a virtual server (its group's, or its own) and their one family. */
function vipsOf(s: Statement, groups: ReadonlyMap<string, readonly string[]>): Pick<LvsVirtualServer, 'family' | 'vips'> {
  let vips: readonly string[];
  if (s.words[1] === 'group') {
    const g = groups.get(word(s, 2));
    if (!g) throw new Error(`line ${s.line}: virtual_server group ${word(s, 2)} is not defined before it is used`);
    vips = g;
  } else {
    vips = [endpoint(word(s, 1), int(s, 2), s.line)];
  }
  const families = new Set(vips.map((v) => (v.startsWith('[') ? 6 : 4)));
  if (families.size !== 1) throw new Error(`line ${s.line}: the virtual server's addresses are not of one family: ${vips.join(' ')}`);
  return { family: [...families][0] as 4 | 6, vips: [...vips].sort() };
}

function parseVirtualServer(s: Statement, groups: ReadonlyMap<string, readonly string[]>): LvsVirtualServer {
  const v: VirtualServerFields = {
    ...vipsOf(s, groups),
    protocol: null,
    scheduler: null,
    lbKind: null,
    ops: false,
    persistenceTimeout: null,
    persistenceGranularity: null,
    delayLoop: null,
    delayBeforeRetry: null,
    retry: null,
  };
  const realServers: LvsRealServer[] = [];
  const other: string[] = [];
  for (const d of s.block ?? []) {
    const key = d.words[0] ?? '';
    const wordField = WORD_DIRECTIVES.get(key);
    const intField = INT_DIRECTIVES.get(key);
    if (wordField !== undefined) v[wordField] = word(d);
    else if (intField !== undefined) v[intField] = int(d);
    else if (key === 'ops') v.ops = true;
    else if (key === 'real_server' && d.block) realServers.push(parseRealServer(d));
    else other.push(show(d));
  }
  return { ...v, realServers, other };
}

/** The LVS part of a keepalived config, every value as written. */
export function parseLvsConfig(text: string): LvsConfig {
  const groups = new Map<string, string[]>();
  const virtualServers: LvsVirtualServer[] = [];
  const other: string[] = [];
  let namespace: string | null = null;
  for (const s of parseKeepalivedBlocks(text)) {
    const key = s.words[0];
    if (key === 'net_namespace' && !s.block) namespace = word(s);
    else if (key === 'virtual_server_group' && s.block) groups.set(word(s), s.block.map((e) => endpoint(word(e, 0), int(e, 1), e.line)));
    else if (key === 'virtual_server' && s.block) virtualServers.push(parseVirtualServer(s, groups));
    else other.push(show(s));
  }
  return { namespace, virtualServers, other };
}
