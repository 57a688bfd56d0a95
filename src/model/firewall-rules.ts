/**
 * @module model/firewall-rules
 * The allow rules a current (master) Octavia controller sends to `PUT /1.0/interface/{ip}/rules`
 * for an SR-IOV VIP, checked against the same rules as master's `rules_schema.py`: a JSON array
 * of objects with exactly `protocol` (`SCTP`, `TCP`, `UDP` or `vrrp`, spelled as the controller
 * sends them: Octavia's VRRP constant is lower case), `cidr` (a string or null) and `port`
 * (1 to 65535). Two checks go further than master's, so that a bad rule is a 400 here rather than
 * an nft syntax error (a 500) later: `cidr` must be a real IPv4 or IPv6 CIDR (or bare address),
 * and `port` an integer (master's schema lets `80.5` through). Pure: no I/O.
 */
import { z } from 'zod';
import { InvalidInput } from './errors.js';
import { parseCidr, parseIpAddress, type Cidr, type IpAddress } from './ip-address.js';

export const FIREWALL_PROTOCOLS = ['SCTP', 'TCP', 'UDP', 'vrrp'] as const;
export type FirewallProtocol = (typeof FIREWALL_PROTOCOLS)[number];

export interface FirewallRule {
  readonly protocol: FirewallProtocol;
  /** The allowed source; null for any. */
  readonly cidr: Cidr | null;
  /** The destination port; for `vrrp` (IP protocol 112) it is carried but not used. */
  readonly port: number;
}

const ruleShape = z.strictObject({
  protocol: z.enum(FIREWALL_PROTOCOLS),
  cidr: z
    .string()
    .nullable()
    .refine((s) => s === null || parseCidr(s) !== undefined, 'must be an IPv4 or IPv6 CIDR such as 198.51.100.0/24 or 2001:db8::/64'),
  port: z.number().int().min(1).max(65535),
});

export const firewallRulesSchema = z.array(ruleShape);

/** The message of every 400 for a rules body (master's BadRequest description). */
export const INVALID_RULES = 'Invalid rules information';

/** A request body (JSON text) as typed rules; `InvalidInput` naming every problem otherwise. */
export function parseFirewallRules(body: string): FirewallRule[] {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (err) {
    throw new InvalidInput(INVALID_RULES, `the body is not JSON: ${(err as Error).message}`);
  }
  const parsed = firewallRulesSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : 'body'}: ${i.message}`);
    throw new InvalidInput(INVALID_RULES, problems.join('\n'));
  }
  return parsed.data.map((r) => ({ protocol: r.protocol, port: r.port, cidr: r.cidr === null ? null : (parseCidr(r.cidr) as Cidr) }));
}

/** The `{ip}` of `/1.0/interface/{ip}`: any spelling of an address, or the reference's 400. */
export function parseInterfaceAddress(text: string): IpAddress {
  const address = parseIpAddress(text);
  if (!address) throw new InvalidInput('Invalid IP address');
  return address;
}
