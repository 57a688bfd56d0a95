/**
 * @module model/ip-address
 * The agent's one model of IPv4 and IPv6 addresses and networks: strict parsing into bytes, and
 * the two spellings Python's `ipaddress` gives, which is what Octavia compares and writes.
 * - canonical (`.compressed`): dotted decimal; RFC 5952 for IPv6 (lower case, no leading zeros,
 *   the longest run of two or more zero groups as `::`, the first on a tie). Two spellings of one
 *   address compare equal through it (`2001:DB8::0:1` and `2001:db8::1`).
 * - exploded (`.exploded`): eight four-digit IPv6 groups, which the interface files carry.
 * Two ways in: `parseIpAddress`/`parseCidr` answer `undefined` for a bad value (the caller words
 * its own 400); `expectIpAddress`/`expectNetwork` throw a plain `Error` worded as Python words
 * it, which the plug requests put into the reference's 400. Pure: no I/O.
 */

export type IpVersion = 4 | 6;

export interface IpAddress {
  readonly version: IpVersion;
  /** 4 or 16 bytes, network order. */
  readonly bytes: readonly number[];
  /** The canonical spelling, with `%zone` when one was given (a zone never matches an address without one). */
  readonly text: string;
}

export interface Cidr {
  readonly version: IpVersion;
  /** The network address (host bits cleared), canonical. */
  readonly network: string;
  /** The network address's 4 or 16 bytes, network order. */
  readonly bytes: readonly number[];
  readonly prefixlen: number;
  /** `<network>/<prefixlen>`. */
  readonly text: string;
}

const DECIMAL_OCTET = /^(0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;
const ZONE = /^[A-Za-z0-9_.-]{1,64}$/;
/** Decimal only; a leading zero is read as decimal, as Python's `ip_network` reads `/024`. */
const PREFIX = /^[0-9]{1,3}$/;

/** Dotted decimal; like Python, a leading zero (`01`) is refused rather than read as octal or decimal. */
function ipv4Bytes(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const bytes = parts.map((p) => (DECIMAL_OCTET.test(p) ? Number(p) : 256));
  return bytes.every((b) => b <= 255) ? bytes : undefined;
}

/** The groups of one side of `::`, each two bytes; a final dotted quad counts as two groups. */
function groupBytes(side: string, mayEndInIpv4: boolean): number[] | undefined {
  if (side === '') return [];
  const groups = side.split(':');
  const out: number[] = [];
  for (const [i, group] of groups.entries()) {
    if (mayEndInIpv4 && i === groups.length - 1 && group.includes('.')) {
      const v4 = ipv4Bytes(group);
      if (!v4) return undefined;
      out.push(...v4);
    } else if (HEX_GROUP.test(group)) {
      const n = parseInt(group, 16);
      out.push(n >> 8, n & 0xff);
    } else {
      return undefined;
    }
  }
  return out;
}

function ipv6Bytes(text: string): number[] | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  if (halves.length === 1) {
    const bytes = groupBytes(text, true);
    return bytes?.length === 16 ? bytes : undefined;
  }
  const head = groupBytes(halves[0] ?? '', false);
  const tail = groupBytes(halves[1] ?? '', true);
  // `::` stands for at least one zero group
  if (!head || !tail || head.length + tail.length > 14) return undefined;
  return [...head, ...new Array<number>(16 - head.length - tail.length).fill(0), ...tail];
}

function ipv6Groups(bytes: readonly number[]): number[] {
  return Array.from({ length: 8 }, (_, i) => ((bytes[2 * i] ?? 0) << 8) | (bytes[2 * i + 1] ?? 0));
}

function ipv6Text(bytes: readonly number[]): string {
  const groups = ipv6Groups(bytes);
  let best = { start: -1, length: 0 };
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.length) best = { start: i, length: j - i };
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.length < 2) return hex.join(':');
  return `${hex.slice(0, best.start).join(':')}::${hex.slice(best.start + best.length).join(':')}`;
}

function textOf(version: IpVersion, bytes: readonly number[]): string {
  return version === 4 ? bytes.join('.') : ipv6Text(bytes);
}

/** An address without a zone; the length cap only refuses what could never be one. */
function bareAddress(text: string): IpAddress | undefined {
  if (text.length > 64) return undefined;
  const v4 = ipv4Bytes(text);
  if (v4) return { version: 4, bytes: v4, text: textOf(4, v4) };
  const v6 = ipv6Bytes(text);
  return v6 ? { version: 6, bytes: v6, text: textOf(6, v6) } : undefined;
}

/** An IPv4 or IPv6 address in any spelling, an IPv6 one with an optional `%zone`; `undefined` when it is not one. */
export function parseIpAddress(text: string): IpAddress | undefined {
  if (text.length > 64) return undefined;
  const [address = '', zone, ...more] = text.split('%');
  if (more.length > 0 || (zone !== undefined && !ZONE.test(zone))) return undefined;
  const parsed = bareAddress(address);
  if (!parsed || zone === undefined) return parsed;
  return parsed.version === 6 ? { ...parsed, text: `${parsed.text}%${zone}` } : undefined;
}

const notAnAddress = (text: unknown) => `${JSON.stringify(text)} does not appear to be an IPv4 or IPv6 address`;

/** An address without a zone, or an `Error` worded as Python's `ip_address` words it. */
export function expectIpAddress(text: unknown): IpAddress {
  const parsed = typeof text === 'string' ? bareAddress(text) : undefined;
  if (!parsed) throw new Error(notAnAddress(text));
  return parsed;
}

export function isIpAddress(text: unknown): boolean {
  return typeof text === 'string' && bareAddress(text) !== undefined;
}

/** An address spelled any way → its canonical spelling; `undefined` stays undefined; throws on a bad one. */
export function normalizeIp(text: string | undefined): string | undefined {
  return text === undefined ? undefined : expectIpAddress(text).text;
}

/** Python's `exploded`: dotted IPv4, or eight four-digit IPv6 groups. */
export function exploded(ip: { readonly version: IpVersion; readonly bytes: readonly number[] }): string {
  if (ip.version === 4) return ip.bytes.join('.');
  return ipv6Groups(ip.bytes)
    .map((g) => g.toString(16).padStart(4, '0'))
    .join(':');
}

function maskedBytes(bytes: readonly number[], prefixlen: number): number[] {
  return bytes.map((b, i) => {
    const keep = Math.max(0, Math.min(8, prefixlen - 8 * i));
    return b & ((0xff << (8 - keep)) & 0xff);
  });
}

/**
 * `<address>[/<prefix length>]` as Python's `ip_network`: `strict` refuses host bits, otherwise
 * they are cleared. A bare address is a host (/32, /128). The answer is the network, or why not.
 */
function readNetwork(text: string, strict: boolean): Cidr | string {
  const [addressText = '', prefixText, ...more] = text.split('/');
  if (more.length > 0) return `${JSON.stringify(text)} does not appear to be an IPv4 or IPv6 network`;
  const address = bareAddress(addressText);
  if (!address) return notAnAddress(addressText);
  const bits = address.bytes.length * 8;
  if (prefixText !== undefined && !(PREFIX.test(prefixText) && Number(prefixText) <= bits)) return `${JSON.stringify(prefixText)} is not a valid netmask`;
  const prefixlen = prefixText === undefined ? bits : Number(prefixText);
  const bytes = maskedBytes(address.bytes, prefixlen);
  if (strict && bytes.some((b, i) => b !== address.bytes[i])) return `${text} has host bits set`;
  const network = textOf(address.version, bytes);
  return { version: address.version, network, bytes, prefixlen, text: `${network}/${prefixlen}` };
}

/**
 * A CIDR with host bits cleared, as Octavia's API does with `ip_network(strict=False)` before it
 * stores an allowed CIDR; `undefined` when it is not one.
 */
export function parseCidr(text: string): Cidr | undefined {
  const read = readNetwork(text, false);
  return typeof read === 'string' ? undefined : read;
}

/**
 * A network, or an `Error` worded as Python's `ip_network` words it: `strict` (a plug request's
 * subnet) refuses host bits, otherwise they are cleared (a host route's destination).
 */
export function expectNetwork(text: unknown, strict = true): Cidr {
  if (typeof text !== 'string') throw new Error(`${JSON.stringify(text)} does not appear to be an IPv4 or IPv6 network`);
  const read = readNetwork(text, strict);
  if (typeof read === 'string') throw new Error(read);
  return read;
}
