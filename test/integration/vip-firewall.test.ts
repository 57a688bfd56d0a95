/**
 * The SR-IOV VIP firewall with the real `ip` and `nft`, as root, in namespaces of the test's own:
 * an "amphora" namespace (the agent's network_namespace) whose eth1 holds 198.51.100.11/24 and
 * 2001:db8::11/64, and a peer namespace on the other end of the veth with .2 and .3 / ::2. The
 * services run through the real ExecaRunner; a Python sink in the amphora namespace logs what
 * reaches its TCP, UDP and raw (IP protocol 112) sockets, which is after the input hook.
 *
 * Proves: the address lookup finds v4 and v6 addresses in any spelling; the base ruleset and the
 * controller's rules load (`nft -j list ruleset`); allowed TCP (v4 and v6), UDP and VRRP get
 * in, others do not (a blocked packet is sent before an allowed one on the same path, so "it did
 * not arrive" is read once the later one has, with no timed wait); a ruleset nft refuses changes
 * nothing in the kernel (the delete-table prefix is rolled back with it); and the kernel reads
 * our rulesets exactly as it reads what Octavia master's nftable_utils writes for the same rules
 * (test/octavia-master-nft/), but for VRRP from an IPv6 peer: nft refuses master's statement for
 * it (that is checked too), and ours is master's with that one statement written as nft takes it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/log.js';
import { parseFirewallRules, parseInterfaceAddress } from '../../src/model/firewall-rules.js';
import { NamespaceInterfaces } from '../../src/services/network/interfaces.js';
import { VipFirewall } from '../../src/services/network/vip-firewall.js';
import { ExecaRunner } from '../../src/system/exec.js';
import { createPaths } from '../../src/system/paths.js';
import { must, sh, show } from '../support/commands.js';
import { addNetns, addVethPair, deleteNetns, uniqueName } from '../support/netns.js';
import { tierCanRun } from '../support/requirements.js';
import { waitFor } from '../support/wait-for.js';

const canRun = tierCanRun('integration: SR-IOV VIP firewall with the real nft', { root: true, binaries: ['ip', 'nft', 'nc'], files: ['/usr/bin/python3'] });
const IP = existsSync('/sbin/ip') ? '/sbin/ip' : '/usr/sbin/ip';
const NFT = existsSync('/usr/sbin/nft') ? '/usr/sbin/nft' : '/sbin/nft';
const MASTER = new URL('../octavia-master-nft/', import.meta.url);
const SINK = new URL('../support/packet-sink.py', import.meta.url).pathname;

/** The kernel's ruleset without handles and version info, for comparing two loads. */
type NftItem = Record<string, Record<string, unknown>>;
const withoutHandles = (v: unknown): unknown =>
  Array.isArray(v) ? v.map(withoutHandles) : typeof v === 'object' && v !== null ? Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'handle').map(([k, x]) => [k, withoutHandles(x)])) : v;

describe.skipIf(!canRun)('SR-IOV VIP firewall: real nft in a namespace', () => {
  const amp = uniqueName('fw');
  const peer = uniqueName('fwp');
  const root = mkdtempSync(join(tmpdir(), 'vip-firewall-'));
  const sinkLog = join(root, 'sink.log');
  const config = parseConfig([{ path: '/x.conf', text: `[haproxy_amphora]\nbase_path = ${root}\n[amphora_agent]\nnetwork_namespace = ${amp}\nip_cmd = ${IP}\nnft_cmd = ${NFT}\n` }]).config;
  const paths = createPaths(config);
  const runner = new ExecaRunner(silentLogger(), 30_000);
  const interfaces = new NamespaceInterfaces({ config: () => config, paths, runner });
  const firewall = new VipFirewall({ config: () => config, paths, runner, interfaces, log: silentLogger() });
  let sink: ChildProcess | undefined;
  let probe = 0;

  const ruleset = async (): Promise<NftItem[]> => {
    const r = await sh('ip', ['netns', 'exec', amp, NFT, '-j', 'list', 'ruleset']);
    expect(r.code, show(r)).toBe(0);
    return (withoutHandles((JSON.parse(r.stdout) as { nftables: NftItem[] }).nftables) as NftItem[]).filter((i) => !('metainfo' in i));
  };
  const sinkLines = () => readFileSync(sinkLog, 'utf8').split('\n');
  const inPeer = (cmd: string, args: string[]) => sh('ip', ['netns', 'exec', peer, cmd, ...args], { timeoutMs: 30_000 });
  /** A TCP connect from the peer: true when it connected; a dropped SYN fails after the connect timeout. */
  const connects = async (address: string, port: number, waitSeconds: number) => (await inPeer('nc', ['-z', '-w', String(waitSeconds), address, String(port)])).code === 0;
  /** One datagram (UDP, or raw IP protocol 112) from `source` in the peer; the payload names it. */
  const send = async (kind: 'udp' | 'ip112' | 'ip6-112', source: string, port: number): Promise<string> => {
    const tag = `probe-${++probe}`;
    const socketOf = { udp: 'socket.AF_INET, socket.SOCK_DGRAM', ip112: 'socket.AF_INET, socket.SOCK_RAW, 112', 'ip6-112': 'socket.AF_INET6, socket.SOCK_RAW, 112' }[kind];
    const to = kind === 'ip6-112' ? `('2001:db8::11', 0)` : `('198.51.100.11', ${port})`;
    const code = `import socket; s=socket.socket(${socketOf}); s.bind(('${source}', 0)); s.sendto(b'${tag}', ${to})`;
    const r = await inPeer('/usr/bin/python3', ['-c', code]);
    expect(r.code, show(r)).toBe(0);
    return tag;
  };
  const arrived = (tag: string) => sinkLines().some((l) => l.endsWith(` ${tag}`));
  /** Sends `blocked` first, then `allowed` on the same path; once `allowed` arrived, `blocked` must not have. */
  const blockedThenAllowed = async (blocked: () => Promise<string>, allowed: () => Promise<string>) => {
    const b = await blocked();
    const a = await allowed();
    await waitFor(`datagram ${a} in the sink`, () => arrived(a), 20_000, () => sinkLines().join('\n'));
    expect(arrived(b), sinkLines().join('\n')).toBe(false);
  };

  beforeAll(async () => {
    await addNetns(amp);
    await addNetns(peer);
    await addVethPair(amp, peer, 'eth1');
    for (const [ns, addr] of [[amp, '198.51.100.11/24'], [peer, '198.51.100.2/24'], [peer, '198.51.100.3/24']] as const) await must('ip', ['-n', ns, 'addr', 'add', addr, 'dev', 'eth1']);
    for (const [ns, addr] of [[amp, '2001:db8::11/64'], [peer, '2001:db8::2/64'], [peer, '2001:db8::3/64']] as const) await must('ip', ['-n', ns, 'addr', 'add', addr, 'dev', 'eth1', 'nodad']);
    writeFileSync(sinkLog, '');
    sink = spawn('ip', ['netns', 'exec', amp, '/usr/bin/python3', SINK, '8080,8081,8443', '5353,5354,8848', sinkLog], { stdio: 'ignore' });
    await waitFor('the packet sink to listen', () => sinkLines().includes('ready'), 30_000);
  });

  afterAll(async () => {
    sink?.kill('SIGKILL');
    await deleteNetns(amp);
    await deleteNetns(peer);
  });

  it.each([
    ['198.51.100.11', 'eth1'],
    ['2001:db8::11', 'eth1'],
    ['2001:DB8:0:0::0:11', 'eth1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0011', 'eth1'],
    ['127.0.0.1', 'lo'],
  ])('finds %s on %s', async (ip, ifname) => {
    expect(await interfaces.interfaceOf(parseInterfaceAddress(ip))).toBe(ifname);
  });

  it('does not find an address no interface holds', async () => {
    await expect(interfaces.interfaceOf(parseInterfaceAddress('198.51.100.2'))).rejects.toMatchObject({ status: 404 });
  });

  it('without a firewall, every listening port is open (the baseline the filters change)', async () => {
    expect(await connects('198.51.100.11', 8081, 10)).toBe(true);
  });

  it('base ruleset: loaded with policy drop; TCP is refused', async () => {
    expect(await firewall.ensureBaseRules()).toBe(true);
    expect(await firewall.load()).toBe(true);
    const items = await ruleset();
    expect(items).toContainEqual({ chain: { family: 'inet', table: 'amphora_table', name: 'amphora_chain', type: 'filter', hook: 'input', prio: 0, policy: 'drop' } });
    expect(await connects('198.51.100.11', 8080, 2)).toBe(false);
    // loading again replaces the table instead of adding a second copy of each rule
    await firewall.load();
    expect(await ruleset()).toEqual(items);
  });

  describe('the controller\'s rules', () => {
    beforeAll(async () => {
      const rules = parseFirewallRules(
        JSON.stringify([
          { protocol: 'TCP', cidr: '198.51.100.0/24', port: 8080 },
          { protocol: 'TCP', cidr: '2001:db8::/64', port: 8443 },
          { protocol: 'UDP', cidr: null, port: 5353 },
          { protocol: 'vrrp', cidr: '198.51.100.2/32', port: 112 },
          { protocol: 'vrrp', cidr: '2001:db8::2/128', port: 112 },
        ]),
      );
      expect(await firewall.setRules(parseInterfaceAddress('198.51.100.11'), rules)).toBe('eth1');
    });

    it('are in the kernel: the VIP chain, reached by a goto from eth1', async () => {
      const items = await ruleset();
      expect(items.some((i) => i['chain']?.['name'] === 'amphora_vip_chain')).toBe(true);
      const gotos = items.filter((i) => JSON.stringify(i['rule']?.['expr'] ?? []).includes('"goto":{"target":"amphora_vip_chain"}'));
      expect(gotos).toHaveLength(1);
      expect(JSON.stringify(gotos[0])).toContain('"iifname"');
    });

    it('let TCP in on an allowed port, v4 from the allowed network and v6 from its own', async () => {
      expect(await connects('198.51.100.11', 8080, 10)).toBe(true);
      expect(await connects('2001:db8::11', 8443, 10)).toBe(true);
    });

    it('keep out TCP on a port not listed, and on a listed port from the other family', async () => {
      expect(await connects('198.51.100.11', 8081, 2)).toBe(false);
      expect(await connects('198.51.100.11', 8443, 2)).toBe(false);
      expect(await connects('2001:db8::11', 8080, 2)).toBe(false);
    });

    it('let UDP in on the allowed port only', async () => {
      await blockedThenAllowed(
        () => send('udp', '198.51.100.2', 5354),
        () => send('udp', '198.51.100.2', 5353),
      );
    });

    it('let VRRP (IP protocol 112) in from the peer named in the rule only', async () => {
      await blockedThenAllowed(
        () => send('ip112', '198.51.100.3', 0),
        () => send('ip112', '198.51.100.2', 0),
      );
    });

    it('let the VRRP peer\'s IPVS sync datagrams (UDP 8848) in from that peer only (ADR 0011)', async () => {
      await blockedThenAllowed(
        () => send('udp', '198.51.100.3', 8848),
        () => send('udp', '198.51.100.2', 8848),
      );
    });

    it('let VRRP in from the IPv6 peer named in the rule only (master\'s ruleset for this does not load)', async () => {
      await blockedThenAllowed(
        () => send('ip6-112', '2001:db8::3', 0),
        () => send('ip6-112', '2001:db8::2', 0),
      );
    });

    it('are kept when nft refuses a ruleset: the whole file, delete-table prefix included, is rolled back', async () => {
      const before = await ruleset();
      const good = readFileSync(paths.nftRulesFile, 'utf8');
      writeFileSync(paths.nftRulesFile, `${good}table inet amphora_table {\n  chain amphora_chain {\n      tcp dport 8081 bogus\n  }\n}\n`);
      await expect(firewall.load()).rejects.toMatchObject({ code: 'command_failed' });
      writeFileSync(paths.nftRulesFile, good);
      expect(await ruleset()).toEqual(before);
      expect(await connects('198.51.100.11', 8081, 2)).toBe(false);
      expect(await connects('198.51.100.11', 8080, 10)).toBe(true);
    });
  });

  describe('the kernel reads our rulesets as it reads Octavia master\'s', () => {
    const cases = JSON.parse(readFileSync(new URL('cases.json', MASTER), 'utf8')) as { name: string; rules: unknown[] }[];
    const loadMaster = async (name: string) => must('ip', ['netns', 'exec', amp, NFT, '-o', '-f', new URL(`${name}.nft`, MASTER).pathname]);

    // master's statement for an IPv6 VRRP peer, which nft refuses, and ours (render/nft-rules.ts)
    const MASTER_V6_VRRP = 'ip6 saddr 2001:db8::12/128 ip protocol 112 accept';
    const OUR_V6_VRRP = 'ip6 saddr 2001:db8::12/128 meta l4proto 112 accept';

    it.each(cases.map((c) => [c.name, c] as const))('%s', async (name, c) => {
      const text = readFileSync(new URL(`${name}.nft`, MASTER), 'utf8');
      if (text.includes(MASTER_V6_VRRP)) {
        const refused = await sh('ip', ['netns', 'exec', amp, NFT, '-o', '-f', new URL(`${name}.nft`, MASTER).pathname]);
        expect(refused.stderr).toContain('conflicting protocols specified: ip6 vs. ip');
        const fixed = join(root, `${name}.master-fixed.nft`);
        writeFileSync(fixed, text.replace(MASTER_V6_VRRP, OUR_V6_VRRP));
        await must('ip', ['netns', 'exec', amp, NFT, '-o', '-f', fixed]);
      } else {
        await loadMaster(name);
      }
      const theirs = await ruleset();
      await firewall.setRules(parseInterfaceAddress('2001:db8::11'), parseFirewallRules(JSON.stringify(c.rules)));
      // master has no IPVS sync: ours adds one rule after each VRRP rule (ADR 0011), nothing else
      const ours = await ruleset();
      const sync = ours.filter((i) => JSON.stringify(i['rule']?.['expr'] ?? []).includes('"right":8848'));
      expect(sync).toHaveLength(c.rules.filter((r) => (r as { protocol: string }).protocol === 'vrrp').length);
      expect(ours.filter((i) => !sync.includes(i))).toEqual(theirs);
    });

    it('base', async () => {
      await must('ip', ['netns', 'exec', amp, NFT, 'delete', 'table', 'inet', 'amphora_table']);
      await loadMaster('base');
      const theirs = await ruleset();
      await must('rm', ['-f', paths.nftRulesFile]);
      await firewall.ensureBaseRules();
      await firewall.load();
      expect(await ruleset()).toEqual(theirs);
    });
  });
});
