/**
 * @module services/network/masquerade
 * What `octavia-agent-lvs-masquerade add <ipv4|ipv6> <if> [sriov]` does, done natively and
 * idempotently inside the amphora namespace: nftables table `ip octavia-ipv4` / `ip6 octavia-ipv6`
 * with UDP and SCTP masquerade out of the interface (LVS NAT-mode replies need it) and TCP notrack
 * in raw-priority prerouting and output; the iptables rules the script falls back to when nft is
 * missing. For an SR-IOV interface (master's `sriov` argument) the TCP notrack rules are left out:
 * the SR-IOV VIP firewall accepts return traffic by conntrack state, which notrack would hide. Only the rules for the interface that are not there yet are added, so running it
 * twice changes nothing (the script, run twice, duplicates them).
 */
import type { Logger } from '../../log.js';
import type { ProcessRunner } from '../../system/exec.js';

export type Family = 'ipv4' | 'ipv6';

interface ChainSpec {
  readonly chain: string;
  readonly hook: string;
  readonly priority: number;
  readonly type: 'nat' | 'filter';
  readonly match: 'oifname' | 'iifname';
  readonly statement: string;
}

function chains(family: Family, sriov: boolean): ChainSpec[] {
  const p = family === 'ipv6' ? 'ip6' : 'ip';
  const all: ChainSpec[] = [
    { chain: `${p}-udp-masq`, hook: 'postrouting', priority: 100, type: 'nat', match: 'oifname', statement: 'meta l4proto udp masquerade' },
    { chain: `${p}-sctp-masq`, hook: 'postrouting', priority: 100, type: 'nat', match: 'oifname', statement: 'meta l4proto sctp masquerade' },
    { chain: 'prerouting', hook: 'prerouting', priority: -300, type: 'filter', match: 'iifname', statement: 'meta l4proto tcp notrack' },
    { chain: 'output', hook: 'output', priority: -300, type: 'filter', match: 'oifname', statement: 'meta l4proto tcp notrack' },
  ];
  return sriov ? all.filter((c) => c.type === 'nat') : all;
}

const tableOf = (family: Family) => (family === 'ipv6' ? { nfFamily: 'ip6', table: 'octavia-ipv6' } : { nfFamily: 'ip', table: 'octavia-ipv4' });

/** The nft script adding what is missing (empty when nothing is). Pure. */
export function masqueradeScript(family: Family, iface: string, present: ReadonlySet<string>, sriov = false): string {
  const { nfFamily, table } = tableOf(family);
  const missing = chains(family, sriov).filter((c) => !present.has(c.chain));
  if (missing.length === 0) return '';
  const lines = [`add table ${nfFamily} ${table}`];
  for (const c of missing) {
    lines.push(`add chain ${nfFamily} ${table} ${c.chain} { type ${c.type} hook ${c.hook} priority ${c.priority}; }`);
    lines.push(`add rule ${nfFamily} ${table} ${c.chain} ${c.match} "${iface}" ${c.statement}`);
  }
  return `${lines.join('\n')}\n`;
}

interface NftRule {
  rule?: { chain: string; expr?: unknown[] };
}

const IPTABLES_RULES = (iface: string, sriov: boolean): string[][] => [
  ['-t', 'nat', '-A', 'POSTROUTING', '-p', 'udp', '-o', iface, '-j', 'MASQUERADE'],
  ['-t', 'nat', '-A', 'POSTROUTING', '-p', 'sctp', '-o', iface, '-j', 'MASQUERADE'],
  ...(sriov
    ? []
    : [
        ['-t', 'raw', '-A', 'PREROUTING', '-p', 'tcp', '-i', iface, '-j', 'NOTRACK'],
        ['-t', 'raw', '-A', 'OUTPUT', '-p', 'tcp', '-o', iface, '-j', 'NOTRACK'],
      ]),
];

export class Masquerade {
  constructor(
    private readonly runner: ProcessRunner,
    private readonly netns: string,
    private readonly log: Logger,
  ) {}

  /** `sriov`: leave TCP notrack out (master's `lvs-masquerade.sh add … sriov`). */
  async ensure(family: Family, iface: string, sriov = false): Promise<void> {
    const { nfFamily, table } = tableOf(family);
    const listed = await this.runner.run('nft', ['-j', 'list', 'table', nfFamily, table], { netns: this.netns, allowFailure: true });
    if (listed.exitCode === undefined) return this.iptables(family, iface, sriov);
    const present = new Set<string>();
    if (listed.exitCode === 0) {
      const items = (JSON.parse(listed.stdout) as { nftables?: NftRule[] }).nftables ?? [];
      for (const item of items) {
        // a rule of this interface: its match compares the interface name
        if (item.rule && JSON.stringify(item.rule.expr ?? []).includes(`"right":${JSON.stringify(iface)}`)) present.add(item.rule.chain);
      }
    }
    const script = masqueradeScript(family, iface, present, sriov);
    if (script !== '') await this.runner.run('nft', ['-f', '-'], { netns: this.netns, input: script });
  }

  /** Removes this interface's rules (a failed plug): the chains of the table stay. */
  async remove(family: Family, iface: string): Promise<void> {
    const { nfFamily, table } = tableOf(family);
    const listed = await this.runner.run('nft', ['-j', '-a', 'list', 'table', nfFamily, table], { netns: this.netns, allowFailure: true });
    if (listed.exitCode !== 0) return;
    const items = (JSON.parse(listed.stdout) as { nftables?: { rule?: { chain: string; handle: number; expr?: unknown[] } }[] }).nftables ?? [];
    for (const item of items) {
      if (!item.rule || !JSON.stringify(item.rule.expr ?? []).includes(`"right":${JSON.stringify(iface)}`)) continue;
      await this.runner.run('nft', ['delete', 'rule', nfFamily, table, item.rule.chain, 'handle', String(item.rule.handle)], { netns: this.netns, allowFailure: true });
    }
  }

  private async iptables(family: Family, iface: string, sriov: boolean): Promise<void> {
    const cmd = family === 'ipv6' ? '/sbin/ip6tables' : '/sbin/iptables';
    this.log.info({ family, iface }, 'nft not found: masquerade with iptables');
    for (const rule of IPTABLES_RULES(iface, sriov)) {
      const check = rule.map((a) => (a === '-A' ? '-C' : a));
      const found = await this.runner.run(cmd, check, { netns: this.netns, allowFailure: true });
      if (found.exitCode !== 0) await this.runner.run(cmd, rule, { netns: this.netns });
    }
  }
}
