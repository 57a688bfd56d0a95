/**
 * OnePacketNat (services/one-packet-nat.ts) over a FakeRunner with a fake namespace (FakeTc):
 * what it runs and when, that an unchanged set of rewrites runs nothing, that a failed batch is
 * retried by the next sync, and the startup restore.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { silentLogger } from '../log.js';
import { listenerSchema, type Listener } from '../model/listener/schema.js';
import { CommandFailed } from '../model/errors.js';
import { member, merge, udpListener } from '../../test/support/listener-fixtures.js';
import { FakeRunner } from '../../test/fakes/fake-runner.js';
import { FakeTc } from '../../test/fakes/fake-tc.js';
import type { StoredListener } from '../model/listener/schema.js';
import { OnePacketNat } from './one-packet-nat.js';
import { createPaths } from '../system/paths.js';

const L1 = 'eeeeeeee-0000-0000-0000-0000000000d1';
const ops = (patch: Record<string, unknown> = {}): Listener =>
  listenerSchema.parse(merge(merge(udpListener(), { default_pool: { session_persistence: { type: 'ONE_PACKET_SCHEDULING' } } }), patch));

function setup(extra = '') {
  const config = parseConfig([{ path: '/x.conf', text: `[amphora_agent]\nnetwork_namespace = amp-test\n${extra}` }]).config;
  const runner = new FakeRunner();
  const tc = new FakeTc(runner, ['eth1', 'eth2'], config.amphora_agent.ip_cmd, config.amphora_agent.tc_cmd);
  const nat = new OnePacketNat({ config: () => config, paths: createPaths(config), runner, log: silentLogger() });
  return { runner, tc, nat };
}
const inner = (argv: readonly string[]) => argv.slice(4).join(' ');

describe('OnePacketNat.sync', () => {
  it('lists devices and filters in the namespace, then sends one batch on tc standard input', async () => {
    const { runner, tc, nat } = setup();
    await nat.sync([{ id: L1, listener: ops() }]);
    expect(runner.runs.map((r) => [r.netns, inner(r.argv)])).toEqual([
      ['amp-test', '/sbin/ip -j link show'],
      ['amp-test', '/sbin/tc -j filter show dev eth1 egress'],
      ['amp-test', '/sbin/tc -j filter show dev eth2 egress'],
      ['amp-test', '/sbin/tc -batch -'],
    ]);
    expect(runner.calls[0]?.slice(0, 4)).toEqual(['ip', 'netns', 'exec', 'amp-test']);
    expect(runner.runs[3]?.input).toBe(tc.batches[0]);
    expect(tc.lines('eth1')).toEqual([
      expect.stringMatching(/^filter add dev eth1 egress pref 4004 protocol ip flower ip_proto udp src_ip 192\.0\.2\.11 src_port 5353 action pedit ex munge ip src set 203\.0\.113\.10 munge udp sport set 53 /),
      expect.stringMatching(/src_ip 192\.0\.2\.12 src_port 5353 /),
    ]);
    expect(tc.lines('eth2')).toEqual(tc.lines('eth1').map((l) => l.replace('dev eth1', 'dev eth2')));
  });

  it('runs nothing while the rewrites stay the same, whatever else changes', async () => {
    const { runner, nat } = setup();
    await nat.sync([]);
    await nat.sync([{ id: L1, listener: listenerSchema.parse(udpListener()) }]);
    expect(runner.calls).toEqual([]);
    await nat.sync([{ id: L1, listener: ops() }]);
    const n = runner.calls.length;
    await nat.sync([{ id: L1, listener: ops({ name: 'renamed', default_pool: { members: [member(1, { weight: 9 }), member(2)] } }) }]);
    expect(runner.calls.length).toBe(n);
  });

  it('replaces its filters on a change and deletes them when no ONE_PACKET_SCHEDULING listener is left', async () => {
    const { tc, nat } = setup();
    await nat.sync([{ id: L1, listener: ops() }]);
    await nat.sync([{ id: L1, listener: ops({ default_pool: { members: [member(3)] } }) }]);
    expect(tc.batches[1]).toMatch(/^qdisc replace dev eth1 clsact\nfilter del dev eth1 egress pref 4004 protocol ip\nfilter add dev eth1 .* src_ip 192\.0\.2\.13 /);
    expect(tc.lines('eth1')).toHaveLength(1);
    await nat.sync([{ id: L1, listener: ops({ default_pool: { session_persistence: { type: 'SOURCE_IP' } } }) }]);
    expect(tc.batches[2]).toBe('filter del dev eth1 egress pref 4004 protocol ip\nfilter del dev eth2 egress pref 4004 protocol ip\n');
    expect([tc.lines('eth1'), tc.lines('eth2')]).toEqual([[], []]);
  });

  it('a failed batch is CommandFailed and the next sync tries again, even with the same listeners', async () => {
    const { tc, nat } = setup();
    tc.failBatches = true;
    const err = await nat.sync([{ id: L1, listener: ops() }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandFailed);
    expect((err as CommandFailed).details).toContain('TC classifier not found');
    tc.failBatches = false;
    await nat.sync([{ id: L1, listener: ops() }]);
    expect(tc.batches).toHaveLength(2);
    expect(tc.lines('eth1')).toHaveLength(2);
  });

  it('uses tc_cmd, ip_cmd and network_namespace from the configuration', async () => {
    const { runner, nat } = setup('tc_cmd = /opt/bin/tc\nip_cmd = /opt/bin/ip\n');
    await nat.sync([{ id: L1, listener: ops() }]);
    expect(runner.runs.map((r) => r.argv[4])).toEqual(['/opt/bin/ip', '/opt/bin/tc', '/opt/bin/tc', '/opt/bin/tc']);
  });
});

describe('OnePacketNat.restore', () => {
  it('runs nothing without a ONE_PACKET_SCHEDULING listener', () => {
    const { runner, nat } = setup();
    nat.restore(() => [{ id: L1, listener: listenerSchema.parse(udpListener()) }]);
    expect(runner.calls).toEqual([]);
  });

  it('retries until the namespace answers, with the listeners as they are then', async () => {
    const { tc, nat } = setup();
    tc.failBatches = true;
    let listeners: StoredListener[] = [{ id: L1, listener: ops() }];
    nat.restore(() => listeners, 5, 10);
    await new Promise((r) => setTimeout(r, 25));
    tc.failBatches = false;
    listeners = [{ id: L1, listener: ops({ default_pool: { members: [member(4)] } }) }];
    await new Promise((r) => setTimeout(r, 60));
    expect(tc.lines('eth1')).toEqual([expect.stringMatching(/src_ip 192\.0\.2\.14 /)]);
    const batches = tc.batches.length;
    await new Promise((r) => setTimeout(r, 40));
    expect(tc.batches.length).toBe(batches);
  });
});
