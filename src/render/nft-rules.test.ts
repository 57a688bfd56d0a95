/**
 * The SR-IOV VIP firewall rulesets (render/nft-rules.ts): goldens per case, and equivalence with
 * Octavia master. test/octavia-master-nft/ holds what master's own
 * `nftable_utils.write_nftable_rules_file` wrote for the same rule lists (recorded by its
 * record.py, which runs master's function text with master's constants). The controller sends
 * CIDRs already normalized (its API stores `ip_network(strict=False).with_prefixlen`) and the VIP
 * is always on eth1, so for those inputs the text must be byte for byte master's, but for VRRP
 * from an IPv6 peer, whose statement master writes in a form nft refuses (see the renderer). The base
 * ruleset differs by design in its first two lines only (it replaces the table, see the module).
 * The kernel's reading of both is compared by the integration tier (vip-firewall.test.ts).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseFirewallRules, type FirewallRule } from '../model/firewall-rules.js';
import { renderBaseRules, renderVipRules, ruleStatement, syncStatement } from './nft-rules.js';

interface Case {
  readonly name: string;
  readonly about: string;
  readonly rules: unknown[];
}
const MASTER = new URL('../../test/octavia-master-nft/', import.meta.url);
const cases = JSON.parse(readFileSync(new URL('cases.json', MASTER), 'utf8')) as Case[];
const master = (name: string) => readFileSync(new URL(`${name}.nft`, MASTER), 'utf8');
const rulesOf = (c: Case) => parseFirewallRules(JSON.stringify(c.rules));
/** Master's statement for VRRP from an IPv6 peer, and ours (see the renderer's module comment). */
const MASTER_V6_VRRP = '      ip6 saddr 2001:db8::12/128 ip protocol 112 accept';
const OUR_V6_VRRP = '      ip6 saddr 2001:db8::12/128 meta l4proto 112 accept';
/** After each VRRP rule, ours accepts the peer's IPVS sync datagrams from the same source (ADR 0011). */
const SYNC_AFTER_VRRP = (line: string) => line.replace(/ (ip protocol|meta l4proto) 112 accept$/, ' udp dport 8848 accept');
const withSync = (text: string) => text.split('\n').flatMap((l) => (/ 112 accept$/.test(l) ? [l, SYNC_AFTER_VRRP(l)] : [l])).join('\n');
const masterFixed = (text: string) => withSync(text.replace(MASTER_V6_VRRP, OUR_V6_VRRP));
const withoutSync = (text: string) => text.split('\n').filter((l) => !/ udp dport 8848 accept$/.test(l));
const golden = (name: string) => `./__golden__/nft-${name}.rules`;

describe('VIP ruleset goldens', () => {
  it.each(cases.map((c) => [c.name, c.about, c] as const))('%s: %s', async (name, _about, c) => {
    await expect(renderVipRules('eth1', rulesOf(c))).toMatchFileSnapshot(golden(name));
  });

  it('empty: no rules sent closes the VIP interface to all but the always-accepted traffic', async () => {
    await expect(renderVipRules('eth1', [])).toMatchFileSnapshot(golden('empty'));
  });

  it('base: the "drop all but ICMP and DHCP" ruleset', async () => {
    await expect(renderBaseRules()).toMatchFileSnapshot(golden('base'));
  });
});

describe('equivalence with Octavia master', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s: the text master writes for the same rules (but for an IPv6 VRRP peer, and the sync line after each VRRP rule)', (name, c) => {
    expect(renderVipRules('eth1', rulesOf(c))).toBe(masterFixed(master(name)));
  });

  it('dual-stack: an IPv6 VRRP peer is the one statement that differs from master\'s, which nft refuses', () => {
    const ours = withoutSync(renderVipRules('eth1', rulesOf(cases.find((c) => c.name === 'dual-stack') as Case)));
    const theirs = master('dual-stack').split('\n');
    const differing = theirs.map((line, i) => [line, ours[i]]).filter(([a, b]) => a !== b);
    expect(differing).toEqual([[`${MASTER_V6_VRRP}`, `${OUR_V6_VRRP}`]]);
  });

  it('base: master\'s text after the two lines that replace the table', () => {
    const [create, remove, ...rest] = renderBaseRules().split('\n');
    expect([create, remove]).toEqual(['table inet amphora_table {}', 'delete table inet amphora_table']);
    expect(rest.join('\n')).toBe(master('base'));
  });
});

describe('rule statements', () => {
  const rule = (protocol: FirewallRule['protocol'], cidr: string | null, port = 80) => parseFirewallRules(JSON.stringify([{ protocol, cidr, port }]))[0] as FirewallRule;

  it('writes CIDRs in their canonical form, host bits cleared', () => {
    expect(ruleStatement(rule('TCP', '198.51.100.77/24'))).toBe('ip saddr 198.51.100.0/24 tcp dport 80 accept');
    expect(ruleStatement(rule('UDP', '2001:DB8:0::77/64', 53))).toBe('ip6 saddr 2001:db8::/64 udp dport 53 accept');
    expect(ruleStatement(rule('SCTP', '203.0.113.9', 9000))).toBe('ip saddr 203.0.113.9/32 sctp dport 9000 accept');
  });

  it('treats every IPv4 /0 as any source, as master treats 0.0.0.0/0', () => {
    expect(ruleStatement(rule('TCP', '10.1.2.3/0'))).toBe('tcp dport 80 accept');
  });

  it('matches VRRP by IP protocol 112 whatever the port; from an IPv6 peer by its next header', () => {
    expect(ruleStatement(rule('vrrp', '198.51.100.12/32', 1))).toBe('ip saddr 198.51.100.12/32 ip protocol 112 accept');
    expect(ruleStatement(rule('vrrp', null, 112))).toBe('ip protocol 112 accept');
    expect(ruleStatement(rule('vrrp', '2001:db8::12/128', 112))).toBe('ip6 saddr 2001:db8::12/128 meta l4proto 112 accept');
  });

  it('accepts the VRRP peer\'s IPVS sync datagrams from the VRRP rule\'s source, right after it (ADR 0011)', () => {
    expect(syncStatement(rule('vrrp', '198.51.100.12/32', 1))).toBe('ip saddr 198.51.100.12/32 udp dport 8848 accept');
    expect(syncStatement(rule('vrrp', '2001:db8::12/128', 112))).toBe('ip6 saddr 2001:db8::12/128 udp dport 8848 accept');
    const lines = renderVipRules('eth1', [rule('TCP', null), rule('vrrp', '198.51.100.12/32', 112)]).split('\n');
    const at = lines.indexOf('      ip saddr 198.51.100.12/32 ip protocol 112 accept');
    expect(lines[at + 1]).toBe('      ip saddr 198.51.100.12/32 udp dport 8848 accept');
    expect(lines.filter((l) => l.includes('8848'))).toHaveLength(1);
  });
});

describe('values that did not come through the API', () => {
  it.each(['eth1 accept', 'eth1;', '', 'averyveryverylongname', 'eth1\n'])('refuses the interface name %j', (name) => {
    expect(() => renderVipRules(name, [])).toThrow(/invalid interface name/);
  });

  it('refuses a port out of range', () => {
    expect(() => renderVipRules('eth1', [{ protocol: 'TCP', cidr: null, port: 0 }])).toThrow(/invalid firewall port/);
    expect(() => renderVipRules('eth1', [{ protocol: 'TCP', cidr: null, port: 80.5 }])).toThrow(/invalid firewall port/);
  });

  it('refuses a CIDR whose text is not its canonical form', () => {
    const cidr = { version: 4 as const, network: '198.51.100.0', bytes: [198, 51, 100, 0], prefixlen: 24, text: '198.51.100.0/24 accept' };
    expect(() => renderVipRules('eth1', [{ protocol: 'TCP', cidr, port: 80 }])).toThrow(/invalid firewall CIDR/);
    expect(() => renderVipRules('eth1', [{ protocol: 'TCP', cidr: { ...cidr, text: '198.51.100.7/24' }, port: 80 }])).toThrow(/invalid firewall CIDR/);
  });
});
