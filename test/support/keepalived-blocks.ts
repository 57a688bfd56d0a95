/**
 * @module test/support/keepalived-blocks
 * The syntax of a keepalived config as a statement tree (words, quoted strings, `{ }` blocks,
 * comments), and reading typed values out of one statement (a word, an integer, an address
 * and port), each failing with the statement's line. Test code only: it knows keepalived's
 * lexical rules as far as the renderers use them, and no directive's meaning (that is
 * test/support/keepalived-lvs-parse.ts).
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

/** A statement as kept in an `other` list: its words, and `{…}` for a block. */
export const show = (s: Statement): string => `${s.words.join(' ')}${s.block ? ' {…}' : ''}`;

export function int(s: Statement, index = 1): number {
  const w = s.words[index];
  if (w === undefined || !/^-?\d+$/.test(w)) throw new Error(`line ${s.line}: '${s.words.join(' ')}' needs an integer`);
  return Number(w);
}

export function word(s: Statement, index = 1): string {
  const w = s.words[index];
  if (w === undefined) throw new Error(`line ${s.line}: '${s.words.join(' ')}' needs a value`);
  return w;
}

/** `addr:port`, `[addr]:port` for IPv6; throws when `address` is not an IP address. */
export function endpoint(address: string, port: string | number, line: number): string {
  const family = isIP(address);
  if (family === 0) throw new Error(`line ${line}: '${address}' is not an IP address`);
  return family === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}
