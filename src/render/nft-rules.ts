/**
 * @module render/nft-rules
 * The nftables rulesets of the SR-IOV VIP firewall, as `nft -f` input. An SR-IOV VIP port
 * bypasses Neutron's security groups, so the amphora filters its own input, with the table,
 * chain names, statements and order of Octavia master's `nftable_utils.py`:
 *
 * - the base ruleset (no rules sent yet): input policy drop; ICMP destination-unreachable,
 *   the ICMPv6 neighbour discovery and PMTUD types, and DHCP/DHCPv6 replies are accepted;
 * - the VIP ruleset: the same, plus conntrack (established/related accepted, invalid dropped),
 *   loopback on `lo` only, and a `goto` from the VIP interface into a chain of its own holding
 *   one accept per rule sent.
 *
 * One statement differs from master's: VRRP from an IPv6 peer is matched as `meta l4proto 112`
 * (master's `ip6 saddr … ip protocol 112` is refused by nft, so an IPv6 ACTIVE_STANDBY amphora
 * would get no ruleset at all). One is added: after each VRRP rule, the peer's IPVS connection
 * sync datagrams (UDP 8848, `syncStatement`, ADR 0011).
 *
 * Both begin by creating and deleting the table, so that one `nft -f` replaces the whole table
 * in a single transaction (master does this for the VIP ruleset only; here the base ruleset can
 * be loaded again without duplicating its rules).
 *
 * Pure: text from typed values only. The CIDRs are canonical (model/ip-address.ts) and the
 * interface name is checked here, as it comes from `ip -j addr`, not from a request.
 */
import { UnsafeValue } from '../model/errors.js';
import type { FirewallRule } from '../model/firewall-rules.js';
import { parseCidr } from '../model/ip-address.js';
import { IPVS_SYNC_PORT } from '../model/ipvs-sync-plan.js';

export const NFT_FAMILY = 'inet';
export const NFT_TABLE = 'amphora_table';
export const NFT_CHAIN = 'amphora_chain';
export const NFT_VIP_CHAIN = 'amphora_vip_chain';
/** IANA protocol number of VRRP. */
const VRRP_PROTOCOL = 112;

/** Linux interface names: at most 15 bytes (IFNAMSIZ - 1); these characters cover every name plug gives. */
const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;

const RULE = '      ';

/** Replacing the table atomically: declare it (so that the delete cannot fail), delete it, define it. */
const REPLACE_TABLE = [`table ${NFT_FAMILY} ${NFT_TABLE} {}`, `delete table ${NFT_FAMILY} ${NFT_TABLE}`];

const INPUT_HOOK = '    type filter hook input priority filter; policy drop;';

/** What every ruleset accepts: PMTUD and neighbour discovery, and DHCP/DHCPv6 replies. */
const ALWAYS_ACCEPTED = [
  'icmp type destination-unreachable accept',
  'icmpv6 type { nd-neighbor-solicit, nd-router-advert, nd-neighbor-advert, packet-too-big, destination-unreachable } accept',
  'udp sport 67 udp dport 68 accept',
  'udp sport 547 udp dport 546 accept',
];

/** Return traffic of flows the amphora opened, and loopback traffic that really came in on lo. */
const STATE_AND_LOOPBACK = [
  'ct state vmap { established : accept, related : accept, invalid : drop }',
  'iif lo accept',
  'ip saddr 127.0.0.0/8 drop',
  'ip6 saddr ::1 drop',
];

function table(chains: readonly string[][]): string {
  return [...REPLACE_TABLE, `table ${NFT_FAMILY} ${NFT_TABLE} {`, ...chains.flat(), '}', ''].join('\n');
}

function chain(name: string, lines: readonly string[]): string[] {
  return [`  chain ${name} {`, ...lines, '  }'];
}

/** A rule's source match with its trailing space: none for null and for 0.0.0.0/0, as master does. */
function sourceMatch(rule: FirewallRule): string {
  const cidr = rule.cidr;
  if (cidr === null || (cidr.version === 4 && cidr.prefixlen === 0)) return '';
  return `${cidr.version === 4 ? 'ip' : 'ip6'} saddr ${cidr.text} `;
}

/** One allow rule: an optional source match (sourceMatch), then the protocol. */
export function ruleStatement(rule: FirewallRule): string {
  const source = sourceMatch(rule);
  switch (rule.protocol) {
    case 'TCP':
      return `${source}tcp dport ${rule.port} accept`;
    case 'UDP':
      return `${source}udp dport ${rule.port} accept`;
    case 'SCTP':
      return `${source}sctp dport ${rule.port} accept`;
    case 'vrrp':
      // An IPv6 peer's VRRP is IPv6 next header 112; master writes `ip6 saddr … ip protocol 112`,
      // which nft refuses ("conflicting protocols"), failing the whole ruleset.
      return rule.cidr?.version === 6 && source !== '' ? `${source}meta l4proto ${VRRP_PROTOCOL} accept` : `${source}ip protocol ${VRRP_PROTOCOL} accept`;
  }
}

/**
 * The IPVS connection sync datagrams of the VRRP peer (ADR 0011), accepted from the source its
 * VRRP rule accepts: a peer trusted to take the VIP is trusted with the connections it serves.
 * Master has no sync, so this is the one line this ruleset adds after each VRRP rule.
 */
export function syncStatement(rule: FirewallRule): string {
  return `${sourceMatch(rule)}udp dport ${IPVS_SYNC_PORT} accept`;
}

/** The second check of a rule's values (the first is model/firewall-rules.ts at the API). */
function checked(rule: FirewallRule): FirewallRule {
  if (!Number.isInteger(rule.port) || rule.port < 1 || rule.port > 65535) throw new UnsafeValue(`invalid firewall port: ${rule.port}`);
  if (rule.cidr !== null && parseCidr(rule.cidr.text)?.text !== rule.cidr.text) throw new UnsafeValue(`invalid firewall CIDR: ${JSON.stringify(rule.cidr.text)}`);
  return rule;
}

/** Master's "drop all" ruleset, for an SR-IOV interface before the controller sent any rule. */
export function renderBaseRules(): string {
  return table([chain(NFT_CHAIN, [INPUT_HOOK, ...ALWAYS_ACCEPTED.map((l) => RULE + l)])]);
}

/** The ruleset for the rules the controller sent; traffic arriving on `vipInterface` meets them. */
export function renderVipRules(vipInterface: string, rules: readonly FirewallRule[]): string {
  if (!IFNAME.test(vipInterface)) throw new UnsafeValue(`invalid interface name: ${JSON.stringify(vipInterface)}`);
  const input = [INPUT_HOOK, ...[...STATE_AND_LOOPBACK, ...ALWAYS_ACCEPTED, `iifname ${vipInterface} goto ${NFT_VIP_CHAIN}`].map((l) => RULE + l)];
  const vip = rules.flatMap((r) => [ruleStatement(checked(r)), ...(r.protocol === 'vrrp' ? [syncStatement(r)] : [])]).map((l) => RULE + l);
  return table([chain(NFT_CHAIN, input), chain(NFT_VIP_CHAIN, vip)]);
}
