/**
 * @module render/ops-nat
 * Listener models → the `tc -batch` input that makes members' replies to ONE_PACKET_SCHEDULING
 * listeners leave the amphora namespace from the VIP. Pure: no fs, no exec. Every word put into
 * the batch passes `configToken` (or is a checked number) here.
 *
 * Why tc and not an iptables SNAT rule (docs/design/0005-one-packet-replies.md): IPVS keeps no
 * connection for a one-packet-scheduled datagram, so it never reverse-NATs the reply. A conntrack
 * SNAT on the replies was measured to fail in the VM tier: every member's reply to one client
 * socket wants the same conntrack reply tuple (client:port ↔ VIP:port), so all but the first
 * member's are dropped as clashes (net.ipv4.vs.conntrack=1), or the client's next datagrams match
 * that entry and are sent to one member without IPVS (=0). A stateless rewrite on egress has no
 * such state: each enabled member of an enabled ONE_PACKET_SCHEDULING UDP listener gets one flower
 * filter, on the egress of every device in the namespace, that sets the source to the listener's
 * first VIP of the member's family and port, then fixes the checksums:
 *
 *   filter add dev eth1 egress pref 4004 protocol ip flower ip_proto udp src_ip <member> src_port <port>
 *     action pedit ex munge ip src set <VIP> munge udp sport set <listener port> pipe
 *     action csum ip4h udp cookie <listener id, hex>
 *
 * Replies of other listeners never match: IPVS has already rewritten their source to the VIP
 * (its FORWARD hook runs before egress). The filters live at their own preferences (OPS_TC_PREF),
 * which the agent deletes and re-adds as a whole.
 */
import { configToken, type ConfigToken } from '../model/config-token.js';
import { familyOf } from '../model/listener/rules.js';
import { UnsafeValue } from '../model/errors.js';
import type { Listener, StoredListener } from '../model/listener/schema.js';

/** The tc filter preferences this agent owns on every device's egress, one per address family. */
export const OPS_TC_PREF = { 4: 4004, 6: 4006 } as const;
const TC_PROTOCOL = { 4: 'ip', 6: 'ipv6' } as const;

export interface OpsRewrite {
  readonly listenerId: ConfigToken;
  readonly family: 4 | 6;
  readonly member: ConfigToken;
  readonly memberPort: number;
  readonly vip: ConfigToken;
  readonly vipPort: number;
}

/** A member address and port that two ONE_PACKET_SCHEDULING listeners share: its replies can be given only one source. */
export interface ShadowedRewrite {
  readonly listenerId: string;
  readonly member: string;
  readonly memberPort: number;
  /** The listener whose VIP its replies get (the lowest listener id). */
  readonly usedBy: string;
}


/** A device of the amphora namespace and which of OPS_TC_PREF it carries now. */
export interface TcDevice {
  readonly name: string;
  readonly prefs: readonly number[];
}

const port = (n: number, what: string): number => {
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new UnsafeValue(`${what} is not a port: ${n}`);
  return n;
};

/** The tc action cookie: the listener id as 32 hex digits, shown by `tc filter show`. */
function cookie(listenerId: string): string {
  const hex = listenerId.replaceAll('-', '');
  if (!/^[0-9a-f]{32}$/.test(hex)) throw new UnsafeValue(`listener id is not a UUID: ${JSON.stringify(listenerId)}`);
  return hex;
}

/** Whether this listener's members reply through IPVS one-packet scheduling (rendered as `ops`). */
export function isOnePacketListener(l: Listener): boolean {
  const pool = l.default_pool;
  return l.protocol === 'UDP' && l.admin_state_up && pool !== null && pool.admin_state_up && pool.session_persistence?.type === 'ONE_PACKET_SCHEDULING';
}

/**
 * One rewrite per enabled member of every enabled ONE_PACKET_SCHEDULING UDP listener, ordered
 * by listener id then member. A member address and port already taken by a listener with a
 * lower id is left out and reported in `shadowed`.
 */
export function opsRewrites(listeners: readonly StoredListener[]): { rewrites: OpsRewrite[]; shadowed: ShadowedRewrite[] } {
  const rewrites: OpsRewrite[] = [];
  const shadowed: ShadowedRewrite[] = [];
  const taken = new Map<string, string>();
  for (const { id, listener } of [...listeners].sort((a, b) => a.id.localeCompare(b.id))) {
    if (!isOnePacketListener(listener)) continue;
    for (const m of listener.default_pool?.members ?? []) {
      if (!m.admin_state_up) continue;
      const family = familyOf(m.address);
      const vip = listener.vip_addresses.find((a) => familyOf(a) === family);
      // the rules refuse a member without a VIP of its family; nothing to rewrite to otherwise
      if (vip === undefined) continue;
      const key = `${m.address} ${m.protocol_port}`;
      const usedBy = taken.get(key);
      if (usedBy === id) continue;
      if (usedBy !== undefined) {
        shadowed.push({ listenerId: id, member: m.address, memberPort: m.protocol_port, usedBy });
        continue;
      }
      taken.set(key, id);
      rewrites.push({
        listenerId: configToken(id, 'listener id'),
        family,
        member: configToken(m.address, 'member address'),
        memberPort: port(m.protocol_port, 'member port'),
        vip: configToken(vip, 'VIP address'),
        vipPort: port(listener.protocol_port, 'listener port'),
      });
    }
  }
  return { rewrites, shadowed };
}

/** Equal keys: the same filters. */
export function opsRewriteKey(rewrites: readonly OpsRewrite[]): string {
  return rewrites.map((r) => `${r.listenerId} ${r.member} ${r.memberPort} ${r.vip} ${r.vipPort}`).join('\n');
}

function filterLine(dev: ConfigToken, r: OpsRewrite): string {
  const ip = r.family === 4 ? 'ip' : 'ip6';
  const csum = r.family === 4 ? 'ip4h udp' : 'udp';
  return (
    `filter add dev ${dev} egress pref ${OPS_TC_PREF[r.family]} protocol ${TC_PROTOCOL[r.family]} flower ip_proto udp src_ip ${r.member} src_port ${r.memberPort}` +
    ` action pedit ex munge ${ip} src set ${r.vip} munge udp sport set ${r.vipPort} pipe action csum ${csum} cookie ${cookie(r.listenerId)}`
  );
}

/**
 * The `tc -batch` input that replaces this agent's filters on every device with `rewrites`:
 * the preferences a device carries are deleted and refilled in one tc run. Empty when there is
 * nothing to delete or add.
 */
export function renderOpsTcBatch(devices: readonly TcDevice[], rewrites: readonly OpsRewrite[]): string {
  const lines: string[] = [];
  for (const d of [...devices].sort((a, b) => a.name.localeCompare(b.name))) {
    const dev = configToken(d.name, 'device name');
    if (rewrites.length > 0) lines.push(`qdisc replace dev ${dev} clsact`);
    for (const family of [4, 6] as const) {
      if (d.prefs.includes(OPS_TC_PREF[family])) lines.push(`filter del dev ${dev} egress pref ${OPS_TC_PREF[family]} protocol ${TC_PROTOCOL[family]}`);
    }
    for (const r of rewrites) lines.push(filterLine(dev, r));
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
