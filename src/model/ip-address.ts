/**
 * @module model/ip-address
 * IPv4 and IPv6 addresses and CIDRs parsed into bytes and written back in one canonical
 * spelling (dotted decimal; RFC 5952 for IPv6: lower case, no leading zeros, the longest run of
 * two or more zero groups as `::`, the first on a tie), which is the spelling Python's
 * `ipaddress` gives as `.compressed`. Two spellings of one address compare equal through it
 * (`2001:DB8::0:1` and `2001:db8::1`). Pure: no I/O.
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
  readonly prefixlen: number;
  /** `<network>/<prefixlen>`. */
  readonly text: string;
}

const DECIMAL_OCTET = /^(0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;
const ZONE = /^[A-Za-z0-9_.-]{1,64}$/;

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

function ipv6Text(bytes: readonly number[]): string {
  const groups = Array.from({ length: 8 }, (_, i) => ((bytes[2 * i] ?? 0) << 8) | (bytes[2 * i + 1] ?? 0));
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

/** An IPv4 or IPv6 address in any spelling; `undefined` when it is not one. */
export function parseIpAddress(text: string): IpAddress | undefined {
  if (text.length > 64) return undefined;
  const v4 = ipv4Bytes(text);
  if (v4) return { version: 4, bytes: v4, text: textOf(4, v4) };
  const [address = '', zone, ...more] = text.split('%');
  if (more.length > 0 || (zone !== undefined && !ZONE.test(zone))) return undefined;
  const v6 = ipv6Bytes(address);
  if (!v6) return undefined;
  return { version: 6, bytes: v6, text: textOf(6, v6) + (zone === undefined ? '' : `%${zone}`) };
}

/**
 * `<address>/<prefix length>` or a bare address (a host: /32 or /128). Host bits are cleared, as
 * Octavia's API does with `ip_network(strict=False)` before it stores an allowed CIDR.
 */
export function parseCidr(text: string): Cidr | undefined {
  const [addressText = '', prefixText, ...more] = text.split('/');
  if (more.length > 0 || addressText.includes('%')) return undefined;
  const address = parseIpAddress(addressText);
  if (!address) return undefined;
  const bits = address.bytes.length * 8;
  if (prefixText !== undefined && !/^[0-9]{1,3}$/.test(prefixText)) return undefined;
  const prefixlen = prefixText === undefined ? bits : Number(prefixText);
  if (prefixlen > bits) return undefined;
  const masked = address.bytes.map((b, i) => {
    const keep = Math.max(0, Math.min(8, prefixlen - 8 * i));
    return b & ((0xff << (8 - keep)) & 0xff);
  });
  const network = textOf(address.version, masked);
  return { version: address.version, network, prefixlen, text: `${network}/${prefixlen}` };
}
