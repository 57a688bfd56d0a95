/**
 * @module model/haproxy-config
 * What the agent needs from a combined haproxy config the controller uploads (API 1.0), looked
 * at once, at upload; haproxy itself validates the rest:
 * - the listeners it serves: each `frontend` section is one listener (its name is the listener
 *   id), typed HTTP or TCP by its `mode` (or the defaults' mode), TERMINATED_HTTPS when a `bind`
 *   line serves TLS from a crt-list;
 * - the config without `group` directives in `global`: the group comes from the amphora's
 *   user-group file, as with the reference agent (older controllers still send one, and two
 *   `group` lines make haproxy refuse the config);
 * - the haproxy peer name of an amphora (`-L`), derived from its id as Octavia derives it;
 * - the server-state file its `global` section names (`server-state-file`, joined to
 *   `server-state-base` when relative), which the new process of a reload reads.
 * Pure: no I/O.
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';

export type HaproxyListenerType = 'HTTP' | 'TCP' | 'TERMINATED_HTTPS';

export interface HaproxyFrontendFacts {
  readonly id: string;
  readonly type: HaproxyListenerType;
}

/** haproxy 2.6's section keywords: any of them ends the section before it. */
const SECTIONS = new Set([
  'global', 'defaults', 'frontend', 'backend', 'listen', 'peers', 'userlist', 'resolvers',
  'program', 'http-errors', 'ring', 'cache', 'mailers', 'log-forward',
]);

/** The words of a config line, without its comment (a `#` at the start of a word). */
function wordsOf(line: string): string[] {
  return line.replace(/(^|\s)#.*$/, '').trim().split(/\s+/).filter((w) => w !== '');
}

interface Section {
  readonly keyword: string;
  readonly name: string | undefined;
  readonly lines: string[][];
}

function sectionsOf(text: string): Section[] {
  const out: Section[] = [];
  for (const line of text.split('\n')) {
    const words = wordsOf(line);
    const [first] = words;
    if (first === undefined) continue;
    if (SECTIONS.has(first)) out.push({ keyword: first, name: words[1], lines: [] });
    else out.at(-1)?.lines.push(words);
  }
  return out;
}

const modeOf = (s: Section | undefined): string | undefined => s?.lines.findLast((w) => w[0] === 'mode')?.[1]?.toLowerCase();

/** A bind line that terminates TLS with a crt-list (Octavia's TERMINATED_HTTPS frontends). */
const terminatesTls = (s: Section): boolean => s.lines.some((w) => w[0] === 'bind' && w.includes('ssl') && w.includes('crt-list'));

/** The listeners (frontends) of a combined config, in the order they appear. */
export function haproxyFrontends(text: string): HaproxyFrontendFacts[] {
  const out: HaproxyFrontendFacts[] = [];
  let defaults: Section | undefined;
  for (const s of sectionsOf(text)) {
    if (s.keyword === 'defaults') defaults = s;
    if (s.keyword !== 'frontend' || s.name === undefined) continue;
    // haproxy's own default mode is tcp
    const mode = modeOf(s) ?? modeOf(defaults) ?? 'tcp';
    out.push({ id: s.name, type: terminatesTls(s) ? 'TERMINATED_HTTPS' : mode === 'http' ? 'HTTP' : 'TCP' });
  }
  return out;
}

/**
 * The config without the `group` directives of its `global` section. The reference removes every
 * line with a `group` word anywhere (`\s+group\s.+`), which would also break a `userlist`'s
 * groups; only the global directive conflicts with the user-group file.
 */
export function withoutGlobalGroup(text: string): string {
  let section: string | undefined;
  const kept: string[] = [];
  for (const line of text.split('\n')) {
    const [first] = wordsOf(line);
    if (first !== undefined && SECTIONS.has(first)) section = first;
    if (section === 'global' && first === 'group') continue;
    kept.push(line);
  }
  return kept.join('\n');
}

/**
 * haproxy's local peer name for an amphora: base64 of the SHA-1 of its id with `-` and `_` for
 * `/` and `+`, a leading `-` made `x` (haproxy takes it for an option) and no `=` padding, as
 * Octavia names the amphora in the `peers` section it renders (its peer lines have a length limit).
 */
export function haproxyPeerName(amphoraId: string): string {
  const b64 = createHash('sha1').update(amphoraId, 'utf8').digest('base64');
  return b64.replace(/\+/g, '_').replace(/\//g, '-').replace(/^-/, 'x').replace(/=+$/, '');
}

/**
 * The file the `global` section's `server-state-file` names, normalized: absolute as given, or
 * joined to an absolute `server-state-base` as haproxy joins them. A relative name without an
 * absolute base is returned as it is (haproxy would read it from its working directory), so a
 * caller comparing it to an absolute path never takes it for one. undefined: no such directive.
 * (Backends that load a file of their own, `load-server-state-from-file local`, are not followed.)
 */
export function haproxyServerStateFile(text: string): string | undefined {
  const global = sectionsOf(text).filter((s) => s.keyword === 'global').flatMap((s) => s.lines);
  const last = (keyword: string) => global.findLast((w) => w[0] === keyword)?.[1];
  const file = last('server-state-file');
  if (file === undefined) return undefined;
  if (file.startsWith('/')) return posix.normalize(file);
  const base = last('server-state-base');
  return base?.startsWith('/') ? posix.join(base, file) : file;
}
