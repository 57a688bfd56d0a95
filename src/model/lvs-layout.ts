/**
 * @module model/lvs-layout
 * The layout of one LVS listener: what its heartbeat needs to know of its keepalived config
 * without reading it again: the virtual server addresses (every VIP of every family), the pool,
 * which member id is which real server `ip:port`, which members are disabled, whether the
 * listener is disabled and whether a checker runs. Worked out once when a config is installed
 * (API 1.0: `parseLvsLayout` of the uploaded text; API 2.0: render/lvs-view.ts from what it
 * rendered) and kept in the state. Pure: no I/O.
 *
 * The parser reads the comments the controller's templater writes (`# Configuration for
 * Listener|Pool|Member <uuid>`, `# Member|Pool|Listener <uuid> is disabled`) and, for configs
 * this agent rendered before layouts were stored, its own template's (`# pool <uuid>`,
 * `# member <uuid>`, `# member <uuid> is disabled`, `# No virtual server: the listener is
 * disabled.`). Where it differs from the reference's reader (keepalivedlvs_query.py):
 * - every address of a `virtual_server_group` counts, not only the first line of each group,
 *   so the counters of a listener with several VIPs of one family are all summed;
 * - a real server is bound to the member comment just before it, not to the member at the same
 *   position in a list of every member comment;
 * - any keepalived checker counts as a monitor (PING_CHECK, which API 2.0 renders for PING
 *   monitors, among them), and a checker word inside a comment does not.
 */
import { z } from 'zod';
import { parseIpAddress } from './ip-address.js';

export const LvsLayoutMember = z.object({
  id: z.string(),
  /** Canonical address of its real server; null for a disabled member the config does not place. */
  address: z.string().nullable(),
  port: z.number().int().nullable(),
  /** Left out of the config by its admin state (reported MAINT). */
  disabled: z.boolean(),
});

export const LvsLayout = z.object({
  /** A disabled listener is left out of the heartbeat, as the reference leaves it out. */
  listenerDisabled: z.boolean(),
  /** Every VIP and port IPVS has a virtual server for (canonical addresses). */
  virtualServers: z.array(z.object({ address: z.string(), port: z.number().int() })),
  /** null: no pool, or a disabled one (the reference reports no pool then). */
  pool: z
    .object({
      id: z.string(),
      /** Whether any real server has a checker: members are UP or "no check", an empty IPVS means DOWN or not. */
      checked: z.boolean(),
      members: z.array(LvsLayoutMember),
    })
    .nullable(),
});

export type LvsLayoutMember = z.infer<typeof LvsLayoutMember>;
export type LvsLayout = z.infer<typeof LvsLayout>;

const UUID = '([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})';
const LISTENER_DISABLED = new RegExp(`^#\\s*Listener\\s+${UUID}\\s+is\\s+disabled`);
const OWN_LISTENER_DISABLED = /^#\s*No virtual server: the listener is disabled\b/;
const POOL = new RegExp(`^#\\s*(?:Configuration\\s+for\\s+Pool|pool)\\s+${UUID}`);
const MEMBER_DISABLED = new RegExp(`^#\\s*[Mm]ember\\s+${UUID}\\s+is\\s+disabled`);
const MEMBER = new RegExp(`^#\\s*(?:Configuration\\s+for\\s+Member|member)\\s+${UUID}\\s*$`);
const GROUP_START = /^virtual_server_group\s+(\S+)\s*\{\s*$/;
const GROUP_USE = /^virtual_server\s+group\s+(\S+)/;
const DIRECT_VS = /^virtual_server\s+(\S+)\s+(\d+)\b/;
const REAL_SERVER = /^real_server\s+(\S+)\s+(\d+)\b/;
/** keepalived's checkers (check_*.c); the reference looks for MISC_CHECK, HTTP_GET and TCP_CHECK only. */
const CHECKER = /^(MISC_CHECK|HTTP_GET|SSL_GET|TCP_CHECK|SMTP_CHECK|DNS_CHECK|BFD_CHECK|PING_CHECK|UDP_CHECK|FILE_CHECK)\b/;

const canonical = (address: string): string => parseIpAddress(address)?.text ?? address;

interface Scan {
  listenerDisabled: boolean;
  poolId: string | null;
  checked: boolean;
  groups: Map<string, { address: string; port: number }[]>;
  used: { address: string; port: number }[];
  members: LvsLayoutMember[];
}

/** One line of the config: a comment it recognizes, or a directive (comments already cut). */
function scanLine(scan: Scan, raw: string, group: { address: string; port: number }[] | null, pending: { id: string | null }): void {
  const line = raw.trim();
  const comment = line.startsWith('#') || line.startsWith('!');
  if (comment) {
    if (LISTENER_DISABLED.test(line) || OWN_LISTENER_DISABLED.test(line)) scan.listenerDisabled = true;
    const pool = POOL.exec(line)?.[1];
    if (pool !== undefined && scan.poolId === null) scan.poolId = pool.toLowerCase();
    const disabled = MEMBER_DISABLED.exec(line)?.[1];
    if (disabled !== undefined) scan.members.push({ id: disabled.toLowerCase(), address: null, port: null, disabled: true });
    const member = MEMBER.exec(line)?.[1];
    if (member !== undefined) pending.id = member.toLowerCase();
    return;
  }
  const body = line.replace(/\s[#!].*$/, '');
  const vip = /^(\S+)\s+(\d+)$/.exec(body);
  if (group !== null && vip) group.push({ address: canonical(vip[1] ?? ''), port: Number(vip[2]) });
  const used = GROUP_USE.exec(body)?.[1];
  if (used !== undefined) scan.used.push(...(scan.groups.get(used) ?? []));
  const direct = used === undefined ? DIRECT_VS.exec(body) : null;
  if (direct) scan.used.push({ address: canonical(direct[1] ?? ''), port: Number(direct[2]) });
  const rs = REAL_SERVER.exec(body);
  if (rs && pending.id !== null) {
    scan.members.push({ id: pending.id, address: canonical(rs[1] ?? ''), port: Number(rs[2]), disabled: false });
    pending.id = null;
  }
  if (CHECKER.test(body)) scan.checked = true;
}

/** The layout of a keepalived LVS config, the controller's (API 1.0) or one this agent rendered. */
export function parseLvsLayout(text: string): LvsLayout {
  const scan: Scan = { listenerDisabled: false, poolId: null, checked: false, groups: new Map(), used: [], members: [] };
  const pending = { id: null as string | null };
  let group: { address: string; port: number }[] | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const start = GROUP_START.exec(line);
    if (start) {
      group = [];
      scan.groups.set(start[1] ?? '', group);
      continue;
    }
    if (group !== null && line.startsWith('}')) {
      group = null;
      continue;
    }
    scanLine(scan, raw, group, pending);
  }
  const unique = new Map(scan.used.map((v) => [`${v.address} ${v.port}`, v]));
  return {
    listenerDisabled: scan.listenerDisabled,
    virtualServers: [...unique.values()],
    pool: scan.poolId === null ? null : { id: scan.poolId, checked: scan.checked, members: scan.members },
  };
}
