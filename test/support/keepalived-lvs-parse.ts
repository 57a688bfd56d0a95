/**
 * @module test/support/keepalived-lvs-parse
 * Reads the text of a keepalived LVS config into what keepalived turns it into (virtual
 * servers, real servers, checks), so that two configs written differently can be compared by
 * meaning: the agent's and the one Octavia's templater writes (test/integration/lvs-equivalence).
 *
 * `parseKeepalivedBlocks` is the syntax (words, quoted strings, `{ }` blocks, comments);
 * `parseLvsConfig` picks out the LVS directives, keeping every value as it was written and
 * every directive it does not know in an `other` list, so nothing is dropped unseen;
 * `normalizeLvs` applies the few equivalences listed there and nothing else. Test code only:
 * it understands the directives the two renderers use, not all of keepalived.
 */
import { isIP } from 'node:net';

export interface Statement {
  readonly words: readonly string[];
  /** The statements inside `{ … }`, or null for a plain directive. */
  readonly block: readonly Statement[] | null;
  readonly line: number;
}

type Token = { readonly kind: 'word'; readonly text: string; readonly line: number } | { readonly kind: '{' | '}' | 'eol'; readonly line: number };

/**
 * keepalived's lexical rules as far as the renderers need them: words are separated by
 * blanks, `{` and `}` are words of their own, a double-quoted string is one word (without
 * quotes), and outside quotes `#` or `!` begins a comment that runs to the end of the line even
 * in the middle of a word (keepalived 2.2.7 reads `lb_algo wrr#x` as `lb_algo wrr`).
 */
function tokenize(text: string): Token[] {
  const out: Token[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    let pos = 0;
    while (pos < raw.length) {
      const c = raw[pos] as string;
      if (c === ' ' || c === '\t' || c === '\r') {
        pos++;
      } else if (c === '#' || c === '!') {
        break;
      } else if (c === '{' || c === '}') {
        out.push({ kind: c, line });
        pos++;
      } else if (c === '"') {
        const end = raw.indexOf('"', pos + 1);
        if (end < 0) throw new Error(`line ${line}: unterminated quoted string`);
        out.push({ kind: 'word', text: raw.slice(pos + 1, end), line });
        pos = end + 1;
      } else {
        let end = pos;
        while (end < raw.length && !' \t\r{}"#!'.includes(raw[end] as string)) end++;
        out.push({ kind: 'word', text: raw.slice(pos, end), line });
        pos = end;
      }
    }
    out.push({ kind: 'eol', line });
  });
  return out;
}

/** The statement tree of a keepalived config. Throws on unbalanced braces. */
export function parseKeepalivedBlocks(text: string): Statement[] {
  const tokens = tokenize(text);
  let i = 0;
  const list = (depth: number): Statement[] => {
    const out: Statement[] = [];
    let words: string[] = [];
    let line = 0;
    const flush = () => {
      if (words.length > 0) out.push({ words, block: null, line });
      words = [];
    };
    while (i < tokens.length) {
      const t = tokens[i++] as Token;
      if (t.kind === 'word') {
        if (words.length === 0) line = t.line;
        words.push(t.text);
      } else if (t.kind === 'eol') {
        flush();
      } else if (t.kind === '{') {
        if (words.length === 0) throw new Error(`line ${t.line}: a block without a name`);
        const head = { words, line };
        words = [];
        out.push({ ...head, block: list(depth + 1) });
      } else {
        if (depth === 0) throw new Error(`line ${t.line}: unexpected '}'`);
        flush();
        return out;
      }
    }
    if (depth > 0) throw new Error(`missing '}' at the end of the config`);
    flush();
    return out;
  };
  return list(0);
}

// ---------------------------------------------------------------------------------------------
// The LVS directives, values as written
// ---------------------------------------------------------------------------------------------

export interface LvsCheck {
  /** The block's keyword: MISC_CHECK, TCP_CHECK, HTTP_GET, PING_CHECK, … */
  readonly kind: string;
  readonly connectIp: string | null;
  readonly connectPort: number | null;
  /** connect_timeout, or misc_timeout for MISC_CHECK. */
  readonly timeout: number | null;
  /** misc_path as the argv keepalived runs (it splits the string on blanks). */
  readonly miscPath: readonly string[] | null;
  /** HTTP_GET/SSL_GET url blocks: `<path> <code>` per accepted code, ranges expanded, sorted. */
  readonly urls: readonly string[] | null;
  readonly other: readonly string[];
}

export interface LvsRealServer {
  readonly address: string;
  readonly port: number;
  readonly weight: number | null;
  readonly uthreshold: number | null;
  readonly checks: readonly LvsCheck[];
  readonly other: readonly string[];
}

export interface LvsVirtualServer {
  readonly family: 4 | 6;
  /** `addr:port` (`[addr]:port` for IPv6) of its group, or of the virtual_server itself; sorted. */
  readonly vips: readonly string[];
  readonly protocol: string | null;
  readonly scheduler: string | null;
  readonly lbKind: string | null;
  readonly ops: boolean;
  readonly persistenceTimeout: number | null;
  readonly persistenceGranularity: string | null;
  readonly delayLoop: number | null;
  readonly delayBeforeRetry: number | null;
  readonly retry: number | null;
  readonly realServers: readonly LvsRealServer[];
  readonly other: readonly string[];
}

export interface LvsConfig {
  readonly namespace: string | null;
  readonly virtualServers: readonly LvsVirtualServer[];
  /** Top-level directives other than net_namespace and the virtual servers and their groups. */
  readonly other: readonly string[];
}

const show = (s: Statement): string => `${s.words.join(' ')}${s.block ? ' {…}' : ''}`;

function int(s: Statement, index = 1): number {
  const w = s.words[index];
  if (w === undefined || !/^-?\d+$/.test(w)) throw new Error(`line ${s.line}: '${s.words.join(' ')}' needs an integer`);
  return Number(w);
}

function word(s: Statement, index = 1): string {
  const w = s.words[index];
  if (w === undefined) throw new Error(`line ${s.line}: '${s.words.join(' ')}' needs a value`);
  return w;
}

function endpoint(address: string, port: string | number, line: number): string {
  const family = isIP(address);
  if (family === 0) throw new Error(`line ${line}: '${address}' is not an IP address`);
  return family === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

/** "200-204" → 200…204; keepalived's status_code takes such words and single codes. */
function statusCodes(words: readonly string[]): number[] {
  return words.flatMap((w) => {
    const m = /^(\d+)-(\d+)$/.exec(w);
    if (m) return Array.from({ length: Math.max(0, Number(m[2]) - Number(m[1]) + 1) }, (_, k) => Number(m[1]) + k);
    if (!/^\d+$/.test(w)) throw new Error(`status_code '${w}' is neither a code nor a range`);
    return [Number(w)];
  });
}

function parseCheck(s: Statement): LvsCheck {
  let connectIp: string | null = null;
  let connectPort: number | null = null;
  let timeout: number | null = null;
  let miscPath: string[] | null = null;
  let urls: string[] | null = null;
  const other: string[] = [];
  for (const d of s.block ?? []) {
    const key = d.words[0];
    if (key === 'connect_ip') connectIp = word(d);
    else if (key === 'connect_port') connectPort = int(d);
    else if (key === 'connect_timeout' || key === 'misc_timeout') timeout = int(d);
    else if (key === 'misc_path') miscPath = word(d).split(/\s+/).filter(Boolean);
    else if (key === 'url' && d.block) {
      let path: string | null = null;
      let codes: number[] | null = null;
      for (const u of d.block) {
        if (u.words[0] === 'path') path = word(u);
        else if (u.words[0] === 'status_code') codes = statusCodes(u.words.slice(1));
        else other.push(`url: ${show(u)}`);
      }
      urls ??= [];
      // a url without status_code is kept as such rather than given keepalived's default
      urls.push(...(codes ?? ['(no status_code)']).map((c) => `${path ?? '(no path)'} ${c}`));
    } else other.push(show(d));
  }
  return { kind: word(s, 0), connectIp, connectPort, timeout, miscPath, urls: urls ? [...new Set(urls)].sort() : null, other };
}

const CHECKS = /^(?:MISC_CHECK|TCP_CHECK|HTTP_GET|SSL_GET|PING_CHECK|SMTP_CHECK|DNS_CHECK|UDP_CHECK|BFD_CHECK|FILE_CHECK)$/;

function parseRealServer(s: Statement): LvsRealServer {
  let weight: number | null = null;
  let uthreshold: number | null = null;
  const checks: LvsCheck[] = [];
  const other: string[] = [];
  for (const d of s.block ?? []) {
    const key = d.words[0] ?? '';
    if (key === 'weight') weight = int(d);
    else if (key === 'uthreshold') uthreshold = int(d);
    else if (CHECKS.test(key) && d.block) checks.push(parseCheck(d));
    else other.push(show(d));
  }
  return { address: word(s, 1), port: int(s, 2), weight, uthreshold, checks, other };
}

function parseVirtualServer(s: Statement, groups: ReadonlyMap<string, readonly string[]>): LvsVirtualServer {
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
  // the directives, filled in below; the last of a repeated directive wins, as in keepalived
  const v: { -readonly [K in Exclude<keyof LvsVirtualServer, 'realServers' | 'other'>]: LvsVirtualServer[K] } = {
    family: [...families][0] as 4 | 6,
    vips: [...vips].sort(),
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
    switch (d.words[0]) {
      case 'protocol':
        v.protocol = word(d);
        break;
      case 'lb_algo':
        v.scheduler = word(d);
        break;
      case 'lb_kind':
        v.lbKind = word(d);
        break;
      case 'ops':
        v.ops = true;
        break;
      case 'persistence_timeout':
        v.persistenceTimeout = int(d);
        break;
      case 'persistence_granularity':
        v.persistenceGranularity = word(d);
        break;
      case 'delay_loop':
        v.delayLoop = int(d);
        break;
      case 'delay_before_retry':
        v.delayBeforeRetry = int(d);
        break;
      case 'retry':
        v.retry = int(d);
        break;
      case 'real_server':
        if (d.block) {
          realServers.push(parseRealServer(d));
          break;
        }
        other.push(show(d));
        break;
      default:
        other.push(show(d));
    }
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

// ---------------------------------------------------------------------------------------------
// Normalization: what keepalived/IPVS treat as the same service
// ---------------------------------------------------------------------------------------------

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
      realServers: [...vs.realServers].sort((a, b) => rsKey(a).localeCompare(rsKey(b))),
      other: vs.other,
    };
  }
  return { namespace: config.namespace, virtualServers, other: config.other };
}
