/**
 * @module services/network/interface-up
 * Brings one interface up inside the amphora namespace from its interface file: what Octavia's
 * `amphora-interface up <name>` does, as one TypeScript implementation (plug, boot and the
 * `interfaces up` CLI all use it). State is read with `ip -j` and only the difference is
 * applied, so a second run changes nothing. Deliberate differences from the reference:
 * - port files leave source rules alone (master; Octavia 11 removed the VIP's rule when a
 *   member port came up);
 * - the kernel's IPv6 link-local address is kept (the reference deletes every permanent
 *   address its file does not list, link-local included);
 * - in SINGLE topology (a VIP file whose VIPs are octavia-owned) `arp_notify` and `ndisc_notify`
 *   are set and the addresses are added before the link goes up, so the kernel sends a
 *   gratuitous ARP for each IPv4 address on link-up and an unsolicited NA for each IPv6 address
 *   when its DAD completes (Octavia sent none for UDP SINGLE load balancers until 2024);
 * - when such a file adds addresses to a link that is already up (a re-plug with master's
 *   `vip_net_info`), the link's MAC is set to itself: the kernel announces on a hardware
 *   address change as it does on link-up (the same GARP and unsolicited NA), and an unchanged
 *   MAC is not passed to the driver, so the link is not bounced and no traffic is lost;
 * - masquerade scripts are recognised and done natively (masquerade.ts); other commands in a
 *   file are logged, never run.
 * As master does, a file with `is_sriov` first gets the SR-IOV VIP firewall (vip-firewall.ts):
 * the base ruleset written when there is no ruleset file, then the file loaded, before the link
 * goes up, so an SR-IOV port (which Neutron's security groups do not guard) is never open.
 */
import type { Logger } from '../../log.js';
import { AgentError } from '../../model/errors.js';
import { masqueradeScripts, managesRules, type InterfaceFile, type InterfaceRoute } from '../../model/plug/interface-file.js';
import { expectNetwork, normalizeIp } from '../../model/ip-address.js';
import type { ProcessRunner } from '../../system/exec.js';
import type { IpState, Link, RouteKey, RuleKey } from './ip-state.js';
import type { Masquerade } from './masquerade.js';

/** keepalived's and the kernel's rules are theirs (the reference skips protocols 18 and 2). */
const FOREIGN_RULES = new Set(['kernel', 'keepalived']);
const TENTATIVE_WAIT_MS = 30_000;

/** What the bring-up needs of the SR-IOV VIP firewall (VipFirewall implements it). */
export interface SriovFirewall {
  ensureBaseRules(): Promise<boolean>;
  load(): Promise<boolean>;
  /** Undoes what ensureBaseRules wrote and load loaded, while the ruleset is still the base one. */
  removeBaseRules(): Promise<void>;
}

export interface InterfaceUpDeps {
  readonly ip: IpState;
  readonly runner: ProcessRunner;
  readonly masquerade: Masquerade;
  readonly firewall: SriovFirewall;
  readonly netns: string;
  readonly log: Logger;
  readonly sleep?: (ms: number) => Promise<void>;
}

const addrKey = (address: string, prefixlen: number) => `${normalizeIp(address)!}/${prefixlen}`;
const routeKey = (r: RouteKey) => `${r.dst}|${r.gateway ?? ''}|${r.prefsrc ?? ''}|${r.table}`;
/** `ip rule` does not infer the family from the address. */
const fam = (src: string) => (src.includes(':') ? '-6' : '-4');
const ruleKey = (r: { src: string; srcLen: number; table: number }) => `${r.src}/${r.srcLen}|${r.table}`;

function desiredRoute(r: InterfaceRoute): RouteKey {
  return { dst: expectNetwork(r.dst, false).text, gateway: normalizeIp(r.gateway ?? undefined), prefsrc: normalizeIp(r.prefsrc), table: r.table ?? 254 };
}

export class InterfaceUp {
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly deps: InterfaceUpDeps) {
    this.sleep = deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  private ipRun(args: readonly string[], allowFailure = false) {
    return this.deps.ip.run(this.deps.netns, args, allowFailure);
  }

  private sysctl(settings: readonly string[]) {
    return this.deps.runner.run('sysctl', ['-q', '-w', ...settings], { netns: this.deps.netns, allowFailure: true });
  }

  async up(file: InterfaceFile): Promise<void> {
    const { name } = file;
    const link = (await this.deps.ip.links(this.deps.netns)).find((l) => l.ifname === name);
    if (!link) throw new AgentError('internal', 500, `Interface ${name} is not in namespace ${this.deps.netns}`);
    let wroteBase = false;
    try {
      if (file.is_sriov === true) {
        wroteBase = await this.deps.firewall.ensureBaseRules();
        await this.deps.firewall.load();
      }
      await this.bringUp(file, link);
    } catch (err) {
      // a failed first SR-IOV bring-up leaves no firewall behind: it would drop the namespace's input
      if (wroteBase) await this.deps.firewall.removeBaseRules().catch((e: unknown) => this.deps.log.warn({ err: e }, 'could not remove the base ruleset'));
      throw err;
    }
  }

  private async bringUp(file: InterfaceFile, link: Link): Promise<void> {
    const { name } = file;
    if (file.mtu && link.mtu !== file.mtu) await this.ipRun(['link', 'set', 'dev', name, 'mtu', String(file.mtu)]);
    if (!link.up) {
      if (announces(file)) await this.sysctl([`net.ipv4.conf.${name}.arp_notify=1`, `net.ipv6.conf.${name}.ndisc_notify=1`]);
      await this.addresses(file);
      await this.ipRun(['link', 'set', 'dev', name, 'up']);
      await this.dynamic(file);
    }
    const added = await this.addresses(file);
    await this.waitTentative(name);
    if (link.up && added > 0 && announces(file)) await this.announce(name, link.address);
    await this.routes(file);
    if (managesRules(file)) await this.rules(file);
    const scripts = masqueradeScripts(file);
    for (const s of scripts.known) await this.deps.masquerade.ensure(s.family, s.interface, s.sriov);
    if (scripts.unknown.length > 0) this.deps.log.warn({ iface: name, commands: scripts.unknown }, 'interface file commands not run');
  }

  private async dynamic(file: InterfaceFile): Promise<void> {
    const { name } = file;
    if (file.addresses.some((a) => a.ipv6auto)) await this.sysctl([`net.ipv6.conf.${name}.accept_ra=2`, `net.ipv6.conf.${name}.autoconf=1`]);
    if (file.addresses.some((a) => a.dhcp)) {
      await this.deps.runner.run('dhclient', ['-lf', `/var/lib/dhclient/dhclient-${name}.leases`, '-pf', `/run/dhclient-${name}.pid`, name], { netns: this.deps.netns });
    }
  }

  /** Returns how many addresses it added. */
  private async addresses(file: InterfaceFile): Promise<number> {
    const current = (await this.deps.ip.addresses(this.deps.netns, file.name)).filter((a) => a.permanent && !(a.family === 'inet6' && a.scope === 'link'));
    const stale = new Set(current.map((a) => addrKey(a.local, a.prefixlen)));
    const missing: string[] = [];
    for (const a of file.addresses) {
      if (a.address === undefined || a.prefixlen === undefined || a.dhcp || a.ipv6auto) continue;
      const key = addrKey(a.address, a.prefixlen);
      if (!stale.delete(key) && a.octavia_owned !== false) missing.push(key);
    }
    // stale ones first: deleting an IPv4 primary address takes its secondaries with it
    for (const key of stale) await this.ipRun(['addr', 'del', key, 'dev', file.name], true);
    for (const key of missing) await this.ipRun(['addr', 'add', key, 'dev', file.name]);
    return missing.length;
  }

  /** GARP and unsolicited NA for the addresses of a link that is up (see the module comment). Best effort. */
  private async announce(name: string, mac: string): Promise<void> {
    await this.sysctl([`net.ipv4.conf.${name}.arp_notify=1`, `net.ipv6.conf.${name}.ndisc_notify=1`]);
    const done = await this.ipRun(['link', 'set', 'dev', name, 'address', mac], true);
    if (done.exitCode !== 0) this.deps.log.warn({ iface: name, output: done.output }, 'addresses not announced');
  }

  /** Routes with a source address fail while that address is still tentative (IPv6 DAD). */
  private async waitTentative(name: string): Promise<void> {
    const deadline = Date.now() + TENTATIVE_WAIT_MS;
    while ((await this.deps.ip.addresses(this.deps.netns, name)).some((a) => a.tentative)) {
      if (Date.now() > deadline) {
        this.deps.log.warn({ iface: name }, 'IPv6 addresses still tentative');
        return;
      }
      await this.sleep(200);
    }
  }

  private async routes(file: InterfaceFile): Promise<void> {
    const stale = new Map((await this.deps.ip.staticRoutes(this.deps.netns, file.name)).map((r) => [routeKey(r), r]));
    for (const r of file.routes) {
      const key = desiredRoute(r);
      if (stale.delete(routeKey(key))) continue;
      const argv = ['route', 'add', key.dst, ...(key.gateway ? ['via', key.gateway] : []), 'dev', file.name];
      argv.push(...(r.flags ?? []), ...(r.scope ? ['scope', r.scope] : []), ...(key.prefsrc ? ['src', key.prefsrc] : []), 'table', String(key.table), 'proto', 'static');
      const done = await this.ipRun(argv, true);
      // the kernel's own subnet route is already there (the reference ignores EEXIST too); a bad
      // host route from the subnet must not fail the plug (the reference only logs it)
      if (done.exitCode !== 0 && !/File exists/.test(done.output)) this.deps.log.warn({ iface: file.name, route: r, output: done.output }, 'route not added');
    }
    for (const r of stale.values()) {
      await this.ipRun(['route', 'del', r.dst, ...(r.gateway ? ['via', r.gateway] : []), 'dev', file.name, 'table', String(r.table), 'proto', 'static'], true);
    }
  }

  private async rules(file: InterfaceFile): Promise<void> {
    const current = (await this.deps.ip.sourceRules(this.deps.netns)).filter((r: RuleKey) => !FOREIGN_RULES.has(r.protocol ?? ''));
    const stale = new Map(current.map((r) => [ruleKey(r), r]));
    for (const rule of file.rules) {
      const want = { src: normalizeIp(rule.src)!, srcLen: rule.src_len, table: rule.table ?? 254 };
      if (stale.delete(ruleKey(want))) continue;
      await this.ipRun([fam(want.src), 'rule', 'add', 'from', `${want.src}/${want.srcLen}`, 'table', String(want.table)]);
    }
    for (const r of stale.values()) await this.ipRun([fam(r.src), 'rule', 'del', 'from', `${r.src}/${r.srcLen}`, 'table', String(r.table)], true);
  }

  /** Undoes a failed plug's rules and masquerade (addresses and routes leave with the link). */
  async undo(file: InterfaceFile): Promise<void> {
    if (managesRules(file)) {
      for (const rule of file.rules) await this.ipRun([fam(rule.src), 'rule', 'del', 'from', `${normalizeIp(rule.src)!}/${rule.src_len}`, 'table', String(rule.table ?? 254)], true);
    }
    for (const s of masqueradeScripts(file).known) await this.deps.masquerade.remove(s.family, s.interface);
  }
}

/** SINGLE topology: the VIPs are the agent's to announce (in ACTIVE_STANDBY keepalived does it). */
export function announces(file: InterfaceFile): boolean {
  return managesRules(file) && file.addresses.some((a) => a.octavia_owned === true);
}
