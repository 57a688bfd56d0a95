/**
 * @module model/plug/interface-file
 * The interface files under `agent_server_network_dir` (`<name>.json`, contract §8): Octavia's
 * format, with master's `if_type` and `is_sriov` keys. The agent writes them on plug and brings
 * interfaces up from them at boot; files written by Octavia 11's agent (no `if_type`) are read
 * too. `parseInterfaceFile` checks a file read from disk, so a damaged one is named, not obeyed.
 * Pure.
 */
import { z } from 'zod';
import { isIpAddress } from '../ip-address.js';

const ip = z.string().refine(isIpAddress, 'not an IP address');
const cidrOrIp = z.string().regex(/^[0-9a-fA-F:.]+(\/\d{1,3})?$/, 'not an address or network');
const ifName = z.string().regex(/^[A-Za-z0-9_.-]{1,15}$/, 'not an interface name');

const address = z.object({
  address: ip.optional(),
  prefixlen: z.number().int().min(0).max(128).optional(),
  octavia_owned: z.boolean().optional(),
  dhcp: z.boolean().optional(),
  ipv6auto: z.boolean().optional(),
});

const route = z.object({
  dst: cidrOrIp,
  gateway: ip.nullish(),
  flags: z.array(z.literal('onlink')).optional(),
  scope: z.literal('link').optional(),
  prefsrc: ip.optional(),
  table: z.number().int().min(1).max(0xffffffff).optional(),
});

const rule = z.object({
  src: ip,
  src_len: z.number().int().min(0).max(128),
  table: z.number().int().min(1).max(0xffffffff).optional(),
});

const script = z.object({ command: z.string() });

export const interfaceFileSchema = z.object({
  name: ifName,
  if_type: z.enum(['vip', 'backend']).optional(),
  addresses: z.array(address),
  routes: z.array(route),
  rules: z.array(rule),
  scripts: z.object({ up: z.array(script), down: z.array(script) }),
  is_sriov: z.boolean().optional(),
  mtu: z.number().int().min(68).max(65535).optional(),
});

export type InterfaceFile = z.infer<typeof interfaceFileSchema>;
export type InterfaceAddress = z.infer<typeof address>;
export type InterfaceRoute = z.infer<typeof route>;
export type InterfaceRule = z.infer<typeof rule>;

/** The name the reference gives the VIP interface inside the namespace, always. */
export const VIP_INTERFACE = 'eth1';

/** Checks a file read from disk; throws an Error naming the first problem. */
export function parseInterfaceFile(json: unknown, source: string): InterfaceFile {
  const parsed = interfaceFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${source}: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

/**
 * Whether the file manages source rules. Master's bring-up leaves rules alone for port files
 * (Octavia 11's removed the VIP's rule whenever a member port came up); a file without
 * `if_type` (written by Octavia 11) is a VIP file when it lists VIP addresses.
 */
export function managesRules(file: InterfaceFile): boolean {
  if (file.if_type !== undefined) return file.if_type === 'vip';
  return file.addresses.some((a) => a.octavia_owned !== undefined);
}

/** A masquerade entry of `scripts.up`, as Octavia 11 and master spell it. */
export interface MasqueradeScript {
  readonly family: 'ipv4' | 'ipv6';
  readonly interface: string;
  readonly sriov: boolean;
}

const MASQUERADE = /^(?:octavia-agent-lvs-masquerade|\/usr\/local\/bin\/lvs-masquerade\.sh) add (ipv4|ipv6) ([A-Za-z0-9_.-]{1,15})( sriov)?$/;

/**
 * Recognises the masquerade scripts of `scripts.up`; the agent does their work itself and never
 * runs a command string from a file. Anything else is returned as unknown, to be logged.
 */
export function masqueradeScripts(file: InterfaceFile): { known: MasqueradeScript[]; unknown: string[] } {
  const known: MasqueradeScript[] = [];
  const unknown: string[] = [];
  for (const { command } of file.scripts.up) {
    const m = MASQUERADE.exec(command.trim());
    if (m) known.push({ family: m[1] as 'ipv4' | 'ipv6', interface: m[2]!, sriov: m[3] !== undefined });
    else unknown.push(command);
  }
  return { known, unknown };
}
