/**
 * @module model/plug/ip
 * Strict IP address and network parsing for the plug payloads, with the spellings Octavia's
 * interface files use (Python's `ipaddress`: `exploded` for VIPs and their subnet, `compressed`
 * when comparing). Pure; errors are plain `Error`s whose message the caller puts in its 400.
 */

export interface Ip {
  readonly version: 4 | 6;
  /** 4 or 16 bytes, network order. */
  readonly bytes: readonly number[];
}

function parseV4(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const bytes = parts.map((p) => (/^(0|[1-9]\d{0,2})$/.test(p) ? Number(p) : NaN));
  return bytes.every((b) => b >= 0 && b <= 255) ? bytes : undefined;
}

function parseV6(text: string): number[] | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text) || text.split('::').length > 2) return undefined;
  let body = text;
  const lastColon = text.lastIndexOf(':');
  const last = text.slice(lastColon + 1);
  if (last.includes('.')) {
    // an embedded IPv4 tail (::ffff:192.0.2.1) stands for the last two groups
    const v4 = parseV4(last);
    if (!v4) return undefined;
    body = `${text.slice(0, lastColon + 1)}${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`;
  }
  const words = (part: string) => (part === '' ? [] : part.split(':').map((w) => (/^[0-9a-fA-F]{1,4}$/.test(w) ? parseInt(w, 16) : NaN)));
  let groups: number[];
  if (body.includes('::')) {
    const [head = '', rest = ''] = body.split('::');
    const a = words(head);
    const b = words(rest);
    if (a.length + b.length >= 8) return undefined;
    groups = [...a, ...new Array<number>(8 - a.length - b.length).fill(0), ...b];
  } else {
    groups = words(body);
  }
  if (groups.length !== 8 || groups.some((g) => Number.isNaN(g))) return undefined;
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}

/** Parses an IPv4 or IPv6 address (no prefix, no zone); throws with Python's wording. */
export function parseIp(text: unknown): Ip {
  if (typeof text === 'string') {
    const v4 = parseV4(text);
    if (v4) return { version: 4, bytes: v4 };
    const v6 = text.includes(':') ? parseV6(text) : undefined;
    if (v6) return { version: 6, bytes: v6 };
  }
  throw new Error(`${JSON.stringify(text)} does not appear to be an IPv4 or IPv6 address`);
}

export function isIp(text: unknown): boolean {
  try {
    parseIp(text);
    return true;
  } catch {
    return false;
  }
}

const hexWords = (ip: Ip) => Array.from({ length: 8 }, (_, i) => ((ip.bytes[2 * i]! << 8) | ip.bytes[2 * i + 1]!).toString(16));

/** Python's `exploded`: dotted IPv4, or eight 4-digit IPv6 groups. */
export function exploded(ip: Ip): string {
  return ip.version === 4 ? ip.bytes.join('.') : hexWords(ip).map((w) => w.padStart(4, '0')).join(':');
}

/** Python's `compressed` (RFC 5952): the spelling addresses are compared in. */
export function compressed(ip: Ip): string {
  if (ip.version === 4) return ip.bytes.join('.');
  const w = hexWords(ip);
  let best = { at: -1, len: 1 };
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && w[j] === '0') j++;
    if (j - i > best.len) best = { at: i, len: j - i };
    i = j === i ? i + 1 : j;
  }
  if (best.at < 0) return w.join(':');
  return `${w.slice(0, best.at).join(':')}::${w.slice(best.at + best.len).join(':')}`;
}

/** An address spelled any way → its compressed form; `undefined` stays undefined. */
export function normalizeIp(text: string | undefined): string | undefined {
  return text === undefined ? undefined : compressed(parseIp(text));
}

export interface Network {
  readonly ip: Ip;
  readonly prefixlen: number;
}

function prefixOf(text: string, max: number): number {
  if (!/^(0|[1-9]\d{0,2})$/.test(text) || Number(text) > max) throw new Error(`${JSON.stringify(text)} is not a valid netmask`);
  return Number(text);
}

function masked(ip: Ip, prefixlen: number): Ip {
  return { version: ip.version, bytes: ip.bytes.map((b, i) => b & (0xff << Math.max(0, 8 - Math.max(0, prefixlen - 8 * i))) & 0xff) };
}

/**
 * Parses `address[/prefix]` as Python's `ip_network`: `strict` refuses host bits (the subnet of a
 * plug request), otherwise they are cleared (a VIP with its subnet's prefix).
 */
export function parseNetwork(text: unknown, strict = true): Network {
  if (typeof text !== 'string') throw new Error(`${JSON.stringify(text)} does not appear to be an IPv4 or IPv6 network`);
  const [addr = '', prefix, extra] = text.split('/');
  if (extra !== undefined) throw new Error(`${JSON.stringify(text)} does not appear to be an IPv4 or IPv6 network`);
  const ip = parseIp(addr);
  const max = ip.version === 4 ? 32 : 128;
  const prefixlen = prefix === undefined ? max : prefixOf(prefix, max);
  const net = masked(ip, prefixlen);
  if (strict && net.bytes.some((b, i) => b !== ip.bytes[i])) throw new Error(`${text} has host bits set`);
  return { ip: net, prefixlen };
}

export function networkText(net: Network, spell: (ip: Ip) => string = exploded): string {
  return `${spell(net.ip)}/${net.prefixlen}`;
}
