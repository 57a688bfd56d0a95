/**
 * @module test/support/plug-network
 * Scripts a FakeRunner as a small stateful host network for the plug API tests: NICs in the
 * agent's own namespace (with addresses and default routes), the amphora namespace's links and
 * addresses, and `ip link set … netns … name …` moving a NIC from one to the other, so that
 * plug vip / plug network run their whole path (move, bring-up, masquerade, firewall) over the
 * production wiring. Every command is still recorded by the FakeRunner, in order.
 */
import type { RunOptions } from '../../src/system/exec.js';
import type { FakeRunner, Reply } from '../fakes/fake-runner.js';

export interface FakeNic {
  ifname: string;
  readonly mac: string;
  up: boolean;
  /** `addr_info` entries as `ip -j addr show` gives them. */
  addresses: { family: 'inet' | 'inet6'; local: string; prefixlen: number; scope: string }[];
}

export interface FakeNetwork {
  readonly home: FakeNic[];
  readonly inside: FakeNic[];
  /** Devices of the home namespace's default routes, per family. */
  readonly homeDefault: { '-4': string[]; '-6': string[] };
}

export const nic = (ifname: string, mac: string, addresses: FakeNic['addresses'] = []): FakeNic => ({ ifname, mac, up: false, addresses });

const json = (value: unknown): Reply => ({ stdout: JSON.stringify(value) });
const linkJson = (n: FakeNic) => ({ ifname: n.ifname, address: n.mac, mtu: 1500, flags: n.up ? ['BROADCAST', 'UP'] : ['BROADCAST'] });

function ipCommand(net: FakeNetwork, argv: readonly string[], options: RunOptions): Reply {
  const where = options.netns ? net.inside : net.home;
  const a = argv.slice(1);
  const find = (name: string | undefined) => where.find((n) => n.ifname === name);
  if (a[0] === '-j' && a[1] === 'link') return json(where.map(linkJson));
  if (a[0] === '-j' && a[1] === 'addr') return json([{ ifname: a[4], addr_info: find(a[4])?.addresses ?? [] }]);
  if (a[0] === '-j' && a[3] === 'show' && a[2] === 'route') {
    const family = a[1] as '-4' | '-6';
    return json(a[4] === 'default' && !options.netns ? net.homeDefault[family].map((dev) => ({ dst: 'default', dev })) : []);
  }
  if (a[0] === '-j') return json([]);
  if (a[0] === 'link' && a[1] === 'set' && a[4] === 'netns') {
    const i = net.home.findIndex((n) => n.ifname === a[3]);
    const [moved] = net.home.splice(i, 1);
    net.inside.push({ ...moved!, ifname: a[7]! });
    return {};
  }
  if (a[0] === 'link' && a[1] === 'set' && a[4] === 'up') find(a[3])!.up = true;
  if (a[0] === 'addr' && a[1] === 'add') {
    const [local, prefixlen] = a[2]!.split('/');
    find(a[4])!.addresses.push({ family: local!.includes(':') ? 'inet6' : 'inet', local: local!, prefixlen: Number(prefixlen), scope: 'global' });
  }
  return {};
}

/** Scripts `runner` over `net` (`ip_cmd` /sbin/ip, masquerade's `nft`, the firewall's `/usr/sbin/nft`, sysctl). */
export function scriptNetwork(runner: FakeRunner, net: FakeNetwork): FakeRunner {
  const ip = (argv: readonly string[], options: RunOptions) => ipCommand(net, argv, options);
  // the link listing also over api-app's FakeTc, which scripts it for the tc rewrites
  return runner
    .on(['/sbin/ip'], ip)
    .on(['/sbin/ip', '-j', 'link', 'show'], ip)
    .on(['sysctl'], {})
    .on(['nft', '-j', 'list', 'table'], { exitCode: 1, stderr: 'No such file or directory' })
    .on(['nft', '-f', '-'], {})
    .on(['/usr/sbin/nft', '-o', '-f'], {});
}
