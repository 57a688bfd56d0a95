/**
 * @module test/support/octavia-templaters
 * Octavia's own templaters, run from a test: the LVS listener config of its LvsJinjaTemplater
 * and the VRRP config of its KeepalivedJinjaTemplater, rendered by octavia-render.py under the
 * system python3 (where python3-octavia is installed) from a spec in Octavia's terms. It does
 * not check the text beyond finding the namespace line it moves.
 */
import { fileURLToPath } from 'node:url';
import { sh, show } from './commands.js';

export const RENDER_SCRIPT = fileURLToPath(new URL('./octavia-render.py', import.meta.url));
export const SYSTEM_PYTHON = '/usr/bin/python3';

export interface LvsMember {
  readonly id: string;
  readonly address: string;
  readonly port: number;
  readonly enabled?: boolean;
  readonly weight?: number;
  readonly monitor_address?: string;
  readonly monitor_port?: number;
}

export interface LvsSpec {
  readonly listener_id: string;
  readonly protocol?: 'UDP' | 'SCTP';
  readonly hm_type?: 'UDP-CONNECT' | 'HTTP' | 'TCP' | 'SCTP' | 'PING' | null;
  readonly listener_enabled?: boolean;
  readonly pool_enabled?: boolean;
  readonly with_pool?: boolean;
  readonly algorithm?: 'ROUND_ROBIN' | 'LEAST_CONNECTIONS' | 'SOURCE_IP';
  readonly connection_limit?: number;
  readonly session_persistence?: { type: 'SOURCE_IP'; persistence_timeout?: number | null; persistence_granularity?: string | null } | null;
  readonly vip?: string;
  readonly port?: number;
  readonly members?: readonly LvsMember[];
  readonly base_path?: string;
}

export interface VrrpSpec {
  readonly vip: string;
  readonly vrrp_ip: string;
  readonly peer_ip: string;
  readonly cidr: string;
  readonly gw?: string;
  readonly role?: 'MASTER' | 'BACKUP';
  readonly priority?: number;
  readonly intf?: string;
  readonly base_path?: string;
  readonly check_interval?: number;
  readonly fail_count?: number;
  readonly success_count?: number;
  readonly advert_int?: number;
}

async function renderWithOctavia(spec: object): Promise<string> {
  const r = await sh(SYSTEM_PYTHON, [RENDER_SCRIPT], { input: JSON.stringify(spec) });
  if (r.code !== 0) throw new Error(`octavia-render.py failed: ${show(r)}`);
  return r.stdout;
}

/** An LVS listener config as Octavia's LvsJinjaTemplater renders it, moved to namespace `ns`. */
export async function renderLvs(spec: LvsSpec, ns: string): Promise<string> {
  const text = await renderWithOctavia({ kind: 'lvs', ...spec });
  if (!/^net_namespace amphora-haproxy$/m.test(text)) throw new Error(`unexpected Octavia LVS render:\n${text}`);
  return text.replace(/^net_namespace amphora-haproxy$/m, `net_namespace ${ns}`);
}

/** A VRRP config as Octavia's KeepalivedJinjaTemplater renders it. */
export function renderVrrp(spec: VrrpSpec): Promise<string> {
  return renderWithOctavia({ kind: 'vrrp', ...spec });
}

/** Removes the vrrp_script block and the track_script reference (a plain peer without checks). */
export function withoutCheckScript(vrrpConfig: string): string {
  const out = vrrpConfig.replace(/^vrrp_script check_script \{\n(?:.*\n)*?\}\n/m, '').replace(/^\s*track_script \{\n\s*check_script\n\s*\}\n/m, '');
  if (/check_script/.test(out)) throw new Error(`could not remove the check script from:\n${vrrpConfig}`);
  return out;
}
