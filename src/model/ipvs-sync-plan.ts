/**
 * @module model/ipvs-sync-plan
 * The IPVS connection synchronisation an ACTIVE_STANDBY amphora runs beside its VRRP keepalived
 * (docs/design/0011-ipvs-connection-sync.md), read from the VRRP config the controller uploaded:
 * the first `vrrp_instance`'s `interface` (the sync datagrams go where VRRP's adverts go),
 * its `virtual_router_id` (the sync id: both amphorae of a pair share it) and the family of its
 * `unicast_src_ip` (an IPv6 VRRP network may have no IPv4 address to send IPv4 multicast from).
 * The plan is the argv of `ipvsadm --start-daemon` for each of the two kernel daemons, which run
 * at the same time on both amphorae (no state following), and how `ipvsadm -L --daemon` shows them.
 * Must not: do I/O.
 */

/** The kernel's default IPv4 group (IP_VS_SYNC_GROUP) and port (IP_VS_SYNC_PORT). */
export const IPVS_SYNC_GROUP_V4 = '224.0.0.81';
export const IPVS_SYNC_PORT = 8848;
/**
 * The kernel has no IPv6 default: a link-local group (ff02::/16, never routed), outside the
 * solicited-node range (ff02::1:ff00:0/104).
 */
export const IPVS_SYNC_GROUP_V6 = 'ff02::1:8848';

export type SyncRole = 'master' | 'backup';
export const SYNC_ROLES: readonly SyncRole[] = ['master', 'backup'];

export interface IpvsSyncPlan {
  readonly interface: string;
  readonly syncId: number;
  readonly group: string;
  /** The peers' VRRP addresses (`unicast_peer`): the only sources whose sync datagrams count. */
  readonly peers: readonly string[];
}

/** Linux interface names: at most 15 bytes, no white space or slash; not led by `-` (an argv value). */
const IFNAME = /^[A-Za-z0-9_.:@][A-Za-z0-9_.:@-]{0,14}$/;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const IPV6 = /^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*$/;

/** The words of the first `vrrp_instance` block (comments dropped as keepalived drops them). */
function firstInstance(text: string): string[][] | undefined {
  let lines: string[][] | undefined;
  let depth = 0;
  for (const raw of text.split('\n')) {
    const words = raw.replace(/[#!].*$/, '').replace(/[{}]/g, ' $& ').split(/\s+/).filter((w) => w !== '');
    if (lines === undefined && depth === 0 && words[0] === 'vrrp_instance') lines = [];
    else if (lines !== undefined && depth > 0) lines.push(words);
    for (const w of words) depth += w === '{' ? 1 : w === '}' ? -1 : 0;
    if (lines !== undefined && depth <= 0 && words.includes('}')) return lines;
  }
  return lines;
}

/**
 * The plan for a VRRP config, or why there is none (a config keepalived itself would refuse, or
 * one that names nothing the sync can use). The values come from the controller's text, so each
 * is checked before it reaches an argv.
 */
export function ipvsSyncPlan(text: string): IpvsSyncPlan | string {
  const instance = firstInstance(text);
  if (instance === undefined) return 'the VRRP config has no vrrp_instance';
  const value = (key: string) => instance.find((w) => w[0] === key)?.[1];
  const iface = value('interface');
  if (iface === undefined || !IFNAME.test(iface)) return `the vrrp_instance names no usable interface (${JSON.stringify(iface ?? null)})`;
  const vrid = Number(value('virtual_router_id'));
  // keepalived's range; the kernel's sync id is one byte (0 would accept every id)
  if (!Number.isInteger(vrid) || vrid < 1 || vrid > 255) return `the vrrp_instance has no virtual_router_id from 1 to 255`;
  const source = value('unicast_src_ip');
  const peers: string[] = [];
  const at = instance.findIndex((w) => w[0] === 'unicast_peer');
  if (at >= 0) {
    for (const words of instance.slice(at + 1)) {
      if (words[0] === '}') break;
      if (words[0] !== undefined && words[0] !== '{') peers.push(words[0]);
    }
  }
  const v6 = source !== undefined ? IPV6.test(source) : peers.some((p) => IPV6.test(p));
  const bad = [source, ...peers].find((a) => a !== undefined && !IPV4.test(a) && !IPV6.test(a));
  if (bad !== undefined) return `not an address in the vrrp_instance: ${JSON.stringify(bad)}`;
  return { interface: iface, syncId: vrid, group: v6 ? IPVS_SYNC_GROUP_V6 : IPVS_SYNC_GROUP_V4, peers };
}

/** `ipvsadm` arguments that start one daemon of the plan. */
export function startDaemonArgs(plan: IpvsSyncPlan, role: SyncRole): string[] {
  return ['--start-daemon', role, '--mcast-interface', plan.interface, '--syncid', String(plan.syncId), '--mcast-group', plan.group];
}

export interface RunningSyncDaemon {
  readonly role: SyncRole;
  readonly interface: string;
  readonly syncId: number;
  /** Absent when ipvsadm does not print it (older versions print the group only when set). */
  readonly group: string | undefined;
}

/**
 * `ipvsadm -L --daemon`: one line per running daemon, e.g.
 * `master sync daemon (mcast=eth1, syncid=1, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)`.
 */
export function parseSyncDaemons(output: string): RunningSyncDaemon[] {
  const out: RunningSyncDaemon[] = [];
  for (const line of output.split('\n')) {
    const m = /^\s*(master|backup) sync daemon \((.*)\)\s*$/.exec(line);
    if (!m) continue;
    const fields = new Map((m[2] ?? '').split(',').map((f) => f.trim().split('=') as [string, string]));
    out.push({ role: m[1] as SyncRole, interface: fields.get('mcast') ?? '', syncId: Number(fields.get('syncid')), group: fields.get('group') });
  }
  return out;
}

/** Whether a running daemon is the one the plan asks for. */
export function matchesPlan(d: RunningSyncDaemon, plan: IpvsSyncPlan): boolean {
  return d.interface === plan.interface && d.syncId === plan.syncId && (d.group === undefined || d.group === plan.group);
}
