/**
 * ONE_PACKET_SCHEDULING reply rewrites with the real `ip` and `tc`, as root, in network
 * namespaces of the test's own: an "amphora" namespace with eth1 (towards a client namespace)
 * and eth2 (towards a member namespace). OnePacketNat runs through the real ExecaRunner.
 *
 * Whether the kernel can rewrite (sch_ingress, cls_flower, act_pedit, act_csum) is asked first
 * with tc itself, and the test expects what follows from the answer: a kernel that can gets the
 * filters, read back with `tc -j filter show`, and a member's datagram reaches the client from
 * the VIP; a kernel that cannot (this CI host's has no cls_flower, act_pedit or act_csum) makes
 * the sync fail with tc's own message. Both then check that the agent finds and deletes filters
 * at its preferences on every device and leaves other filters alone. The traffic through IPVS,
 * under a kernel that has everything, is the VM tier's (test/e2e, scenario api2).
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/log.js';
import { CommandFailed } from '../../src/model/errors.js';
import { listenerSchema } from '../../src/model/listener/schema.js';
import { createPaths } from '../../src/system/paths.js';
import { OnePacketNat } from '../../src/services/one-packet-nat.js';
import { ExecaRunner } from '../../src/system/exec.js';
import { deleteNetns, must, sh, show, uniqueName } from '../support/keepalived-fixture.js';
import { member, merge, udpListener } from '../support/listener-fixtures.js';
import { tierCanRun } from '../support/requirements.js';

const canRun = tierCanRun('integration: ONE_PACKET_SCHEDULING reply rewrites with the real tc', { root: true, binaries: ['ip', 'tc', 'python3'] });
const TC = existsSync('/sbin/tc') ? '/sbin/tc' : '/usr/sbin/tc';
const IP = existsSync('/sbin/ip') ? '/sbin/ip' : '/usr/sbin/ip';
const L1 = 'eeeeeeee-0000-0000-0000-0000000000f1';
const COOKIE = L1.replaceAll('-', '');

describe.skipIf(!canRun)('ONE_PACKET_SCHEDULING reply rewrites: real tc in a namespace', () => {
  const amp = uniqueName('ops');
  const client = uniqueName('opc');
  const mem = uniqueName('opm');
  const nsx = (ns: string, cmd: string, args: string[]) => sh('ip', ['netns', 'exec', ns, cmd, ...args]);
  const filters = async (dev: string) => {
    const r = await nsx(amp, TC, ['-j', 'filter', 'show', 'dev', dev, 'egress']);
    expect(r.code, show(r)).toBe(0);
    return JSON.parse(r.stdout || '[]') as { pref: number; kind: string; options?: Record<string, unknown> }[];
  };
  const prefs = async (dev: string) => [...new Set((await filters(dev)).map((f) => f.pref))].sort();

  const config = () => parseConfig([{ path: '/x.conf', text: `[amphora_agent]\nnetwork_namespace = ${amp}\ntc_cmd = ${TC}\nip_cmd = ${IP}\n` }]).config;
  const nat = () => new OnePacketNat({ config, paths: createPaths(config()), runner: new ExecaRunner(silentLogger(), 30_000), log: silentLogger() });
  const opsListener = listenerSchema.parse(
    merge(udpListener(), {
      vip_addresses: ['10.0.0.100', 'fd00::100'],
      protocol_port: 5010,
      default_pool: { session_persistence: { type: 'ONE_PACKET_SCHEDULING' }, members: [member(1, { address: '10.1.0.21', protocol_port: 5000 }), member(2, { address: 'fd01::21', protocol_port: 5000 }), member(3, { address: '10.1.0.23', protocol_port: 5000, admin_state_up: false })] },
    }),
  );
  let kernelCan = false;
  let kernelSays = '';

  beforeAll(async () => {
    for (const ns of [amp, client, mem]) {
      await must('ip', ['netns', 'add', ns]);
      await must('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    await must('ip', ['-n', amp, 'link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'c0', 'netns', client]);
    await must('ip', ['-n', amp, 'link', 'add', 'eth2', 'type', 'veth', 'peer', 'name', 'm0', 'netns', mem]);
    for (const [ns, dev, addr] of [[amp, 'eth1', '10.0.0.11/24'], [amp, 'eth1', '10.0.0.100/32'], [amp, 'eth2', '10.1.0.11/24'], [client, 'c0', '10.0.0.2/24'], [mem, 'm0', '10.1.0.21/24']] as const) {
      await must('ip', ['-n', ns, 'addr', 'add', addr, 'dev', dev]);
    }
    for (const [ns, dev] of [[amp, 'eth1'], [amp, 'eth2'], [client, 'c0'], [mem, 'm0']] as const) await must('ip', ['-n', ns, 'link', 'set', dev, 'up']);
    await must('ip', ['-n', mem, 'route', 'add', 'default', 'via', '10.1.0.11']);
    await must('ip', ['netns', 'exec', amp, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    // Can this kernel rewrite? Asked on a device of a namespace of its own, with the filter the agent writes.
    const probe = uniqueName('opp');
    await must('ip', ['netns', 'add', probe]);
    try {
      await must('ip', ['-n', probe, 'link', 'add', 'p0', 'type', 'veth', 'peer', 'name', 'p1']);
      const r = await sh('ip', ['netns', 'exec', probe, TC, '-batch', '-'], {
        input: `qdisc add dev p0 clsact\nfilter add dev p0 egress pref 4004 protocol ip flower ip_proto udp src_ip 10.1.0.21 src_port 5000 action pedit ex munge ip src set 10.0.0.100 munge udp sport set 5010 pipe action csum ip4h udp\n`,
      });
      kernelCan = r.code === 0;
      kernelSays = r.stderr.trim();
    } finally {
      await deleteNetns(probe);
    }
    process.stderr.write(`one-packet-nat integration: this kernel ${kernelCan ? 'can rewrite with tc' : `cannot rewrite with tc (${kernelSays.split('\n')[0]})`}\n`);
  });

  afterAll(async () => {
    for (const ns of [amp, client, mem]) await deleteNetns(ns);
  });

  it('applies the filters and reads them back (or reports the kernel refusing them), then deletes only its own', async () => {
    // a filter of someone else (pref 100) and a stale one of ours (pref 4004) on eth2
    await must('ip', ['netns', 'exec', amp, TC, 'qdisc', 'add', 'dev', 'eth2', 'clsact']);
    await must('ip', ['netns', 'exec', amp, TC, 'filter', 'add', 'dev', 'eth2', 'egress', 'pref', '100', 'protocol', 'ip', 'u32', 'match', 'ip', 'src', '192.0.2.1/32']);
    await must('ip', ['netns', 'exec', amp, TC, 'filter', 'add', 'dev', 'eth2', 'egress', 'pref', '4004', 'protocol', 'ip', 'u32', 'match', 'ip', 'src', '192.0.2.2/32']);
    const agent = nat();
    const applied = agent.sync([{ id: L1, listener: opsListener }]);
    if (kernelCan) {
      await applied;
      for (const dev of ['eth1', 'eth2']) {
        expect(await prefs(dev)).toEqual([100, 4004, 4006].filter((p) => dev === 'eth2' || p !== 100));
        const ours = (await filters(dev)).filter((f) => f.kind === 'flower' && f.options !== undefined && f.pref !== 100);
        expect(ours.map((f) => (f.options?.['keys'] as Record<string, unknown>)?.['src_ip'])).toEqual(['10.1.0.21', 'fd01::21']);
        const text = (await nsx(amp, TC, ['filter', 'show', 'dev', dev, 'egress'])).stdout;
        expect(text.match(new RegExp(`cookie ${COOKIE}`, 'g'))?.length).toBe(2);
      }
      // a member's datagram to the client leaves the amphora from the VIP and the listener port
      const receiver = nsx(client, 'python3', ['-c', "import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.bind(('10.0.0.2',40000));s.settimeout(10);d,a=s.recvfrom(100);print('%s:%d %s'%(a[0],a[1],d.decode()))"]);
      await new Promise((r) => setTimeout(r, 500));
      await must('ip', ['netns', 'exec', mem, 'python3', '-c', "import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.bind(('10.1.0.21',5000));s.sendto(b'be1',('10.0.0.2',40000))"]);
      expect((await receiver).stdout.trim()).toBe('10.0.0.100:5010 be1');
    } else {
      const err = await applied.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(CommandFailed);
      expect((err as CommandFailed).argv.slice(4)).toEqual([TC, '-batch', '-']);
      expect((err as CommandFailed).output).toContain(kernelSays.split('\n')[0]);
    }
    // no ONE_PACKET_SCHEDULING listener left: every filter at 4004/4006 goes, pref 100 stays
    await agent.sync([{ id: L1, listener: listenerSchema.parse(merge(udpListener(), { default_pool: { members: [member(1)] } })) }]);
    expect(await prefs('eth1')).toEqual([]);
    expect(await prefs('eth2')).toEqual([100]);
  });
});
