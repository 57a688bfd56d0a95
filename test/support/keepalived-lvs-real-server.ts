/**
 * @module test/support/keepalived-lvs-real-server
 * Reads one `real_server` block of a keepalived LVS config and its health checks (MISC_CHECK,
 * TCP_CHECK, HTTP_GET, …), every value as written; what it does not know goes to `other`.
 * Test code only, used by test/support/keepalived-lvs-parse.ts; it does not normalize.
 */
import { int, show, word, type Statement } from './keepalived-blocks.js';
import type { LvsCheck, LvsRealServer } from './keepalived-lvs-types.js';

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

export function parseRealServer(s: Statement): LvsRealServer {
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
