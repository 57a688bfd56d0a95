/**
 * ONE_PACKET_SCHEDULING reply rewrites (render/ops-nat.ts): which listeners and members get a
 * tc egress filter, golden `tc -batch` inputs (IPv4, IPv6, dual stack, several listeners,
 * disabled members, the batch that clears), and the refusal of unsafe words that never went
 * through the API rules. The VM tier (test/e2e, scenario api2) sends traffic through them.
 */
import { describe, expect, it } from 'vitest';
import { listenerViolations } from '../model/listener/rules.js';
import { listenerSchema, type Listener } from '../model/listener/schema.js';
import { member, merge, udpListener } from '../../test/support/listener-fixtures.js';
import type { StoredListener } from '../model/listener/schema.js';
import { isOnePacketListener, opsRewriteKey, opsRewrites, renderOpsTcBatch, type TcDevice } from './ops-nat.js';

type Json = Record<string, unknown>;
const L1 = 'eeeeeeee-0000-0000-0000-0000000000c1';
const L2 = 'eeeeeeee-0000-0000-0000-0000000000c2';
const L3 = 'eeeeeeee-0000-0000-0000-0000000000c3';
const OPS = { default_pool: { session_persistence: { type: 'ONE_PACKET_SCHEDULING' } } };

/** A valid listener: the UDP fixture with ONE_PACKET_SCHEDULING and `patch` deep-merged, through the schema and the API's rules. */
const listener = (patch: Json = {}, base: Json = OPS): Listener => {
  const l = listenerSchema.parse(merge(merge(udpListener(), base), patch));
  const violations = listenerViolations(l, { udpConnectMinDelay: 3 });
  if (violations.length > 0) throw new Error(`not a valid listener: ${JSON.stringify(violations)}`);
  return l;
};
const v6member = (n: number, extra: Json = {}): Json => member(n, { address: `2001:db8::${10 + n}`, ...extra });
const devices: TcDevice[] = [
  { name: 'eth1', prefs: [] },
  { name: 'eth2', prefs: [] },
];
const batch = (listeners: StoredListener[], devs: TcDevice[] = devices) => renderOpsTcBatch(devs, opsRewrites(listeners).rewrites);

// [golden name, what it shows, listeners, devices]
const cases: [string, string, StoredListener[], TcDevice[]][] = [
  ['ipv4', 'one listener, two members on IPv4: a filter per member on every device', [{ id: L1, listener: listener() }], devices],
  [
    'ipv6',
    'IPv6 VIP and members: pref 4006, protocol ipv6, munge ip6, csum udp',
    [{ id: L1, listener: listener({ vip_addresses: ['2001:db8::1'], default_pool: { members: [v6member(1), v6member(2)] } }) }],
    devices,
  ],
  [
    'dual-stack',
    'IPv4 and IPv6 members: each family rewritten to its first VIP',
    [{ id: L1, listener: listener({ vip_addresses: ['203.0.113.10', '2001:db8::1', '198.51.100.10', '2001:db8::2'], default_pool: { members: [member(1), v6member(2)] } }) }],
    devices,
  ],
  [
    'several-listeners',
    'three listeners: two ONE_PACKET_SCHEDULING ones (sorted by id) and one without, which adds nothing',
    [
      { id: L3, listener: listener({ protocol_port: 5353, default_pool: { members: [member(5, { protocol_port: 5000 })] } }) },
      { id: L2, listener: listener({}, {}) },
      { id: L1, listener: listener({ vip_addresses: ['198.51.100.10'], protocol_port: 514, default_pool: { members: [member(3, { protocol_port: 1514 }), member(4, { protocol_port: 1514 })] } }) },
    ],
    devices,
  ],
  ['disabled-member', 'a disabled member gets no filter', [{ id: L1, listener: listener({ default_pool: { members: [member(1, { admin_state_up: false }), member(2)] } }) }], devices],
  [
    'replace',
    'filters of ours already on a device are deleted first (only the preferences it carries)',
    [{ id: L1, listener: listener() }],
    [
      { name: 'eth1', prefs: [4004, 4006] },
      { name: 'eth2', prefs: [4004] },
      { name: 'eth3', prefs: [] },
    ],
  ],
  [
    'clear',
    'no ONE_PACKET_SCHEDULING listener left: only deletions, no qdisc',
    [{ id: L2, listener: listener({}, {}) }],
    [
      { name: 'eth1', prefs: [4004] },
      { name: 'eth2', prefs: [4006] },
    ],
  ],
];

describe('tc batch of the ONE_PACKET_SCHEDULING reply rewrites (golden files)', () => {
  it.each(cases)('%s: %s', async (name, _what, listeners, devs) => {
    await expect(batch(listeners, devs)).toMatchFileSnapshot(`./__golden__/ops-nat-${name}.batch`);
  });

  it('is empty when there is nothing to delete or add', () => {
    expect(batch([{ id: L2, listener: listener({}, {}) }])).toBe('');
    expect(batch([], [])).toBe('');
    expect(batch([{ id: L1, listener: listener() }], [])).toBe('');
  });
});

describe('which listeners and members are rewritten', () => {
  it('UDP + ONE_PACKET_SCHEDULING + enabled listener + enabled pool only', () => {
    expect(isOnePacketListener(listener())).toBe(true);
    expect(isOnePacketListener(listener({}, {}))).toBe(false);
    expect(isOnePacketListener(listener({ default_pool: { session_persistence: { type: 'SOURCE_IP' } } }, {}))).toBe(false);
    expect(isOnePacketListener(listener({ admin_state_up: false }))).toBe(false);
    expect(isOnePacketListener(listener({ default_pool: { admin_state_up: false } }))).toBe(false);
    expect(isOnePacketListener(listener({ default_pool: null }))).toBe(false);
    expect(opsRewrites([{ id: L1, listener: listener({ admin_state_up: false }) }]).rewrites).toEqual([]);
  });

  it('maps each member to the first VIP of its family and the listener port', () => {
    const l = listener({ vip_addresses: ['2001:db8::1', '203.0.113.10', '198.51.100.10'], protocol_port: 53, default_pool: { members: [member(1), v6member(2, { protocol_port: 5300 })] } });
    expect(opsRewrites([{ id: L1, listener: l }]).rewrites).toEqual([
      { listenerId: L1, family: 4, member: '192.0.2.11', memberPort: 5353, vip: '203.0.113.10', vipPort: 53 },
      { listenerId: L1, family: 6, member: '2001:db8::12', memberPort: 5300, vip: '2001:db8::1', vipPort: 53 },
    ]);
  });

  it('a member address and port in two listeners is rewritten for the lowest listener id only, and reported', () => {
    const a = listener({ vip_addresses: ['198.51.100.10'] });
    const b = listener();
    const { rewrites, shadowed } = opsRewrites([
      { id: L2, listener: b },
      { id: L1, listener: a },
    ]);
    expect(rewrites.map((r) => [r.listenerId, r.member, r.vip])).toEqual([
      [L1, '192.0.2.11', '198.51.100.10'],
      [L1, '192.0.2.12', '198.51.100.10'],
    ]);
    expect(shadowed).toEqual([
      { listenerId: L2, member: '192.0.2.11', memberPort: 5353, usedBy: L1 },
      { listenerId: L2, member: '192.0.2.12', memberPort: 5353, usedBy: L1 },
    ]);
    // the same member twice in one listener (the rules refuse it) would be one filter, and no conflict
    const twice = listenerSchema.parse(merge(merge(udpListener(), OPS), { default_pool: { members: [member(1), member(1, { id: 'dddddddd-0000-0000-0000-000000000099' })] } }));
    expect(opsRewrites([{ id: L1, listener: twice }])).toMatchObject({ rewrites: [{ member: '192.0.2.11' }], shadowed: [] });
  });

  it('the key changes with every field a filter carries, and not with the order listeners are given in', () => {
    const key = (ls: StoredListener[]) => opsRewriteKey(opsRewrites(ls).rewrites);
    const base = key([{ id: L1, listener: listener() }]);
    expect(key([])).toBe('');
    expect(key([{ id: L1, listener: listener({ protocol_port: 54 }) }])).not.toBe(base);
    expect(key([{ id: L1, listener: listener({ vip_addresses: ['198.51.100.10'] }) }])).not.toBe(base);
    expect(key([{ id: L1, listener: listener({ default_pool: { members: [member(1, { protocol_port: 1 }), member(2)] } }) }])).not.toBe(base);
    expect(key([{ id: L1, listener: listener({ default_pool: { members: [member(1, { weight: 7 }), member(2)] } }) }])).toBe(base);
    const two = [
      { id: L1, listener: listener() },
      { id: L2, listener: listener({ vip_addresses: ['198.51.100.10'], default_pool: { members: [member(7)] } }) },
    ];
    expect(key([...two].reverse())).toBe(key(two));
  });
});

describe('refuses unsafe words handed to it directly (bypassing the rules)', () => {
  const raw = (mutate: (l: Listener) => void): StoredListener[] => {
    const l = structuredClone(listener());
    mutate(l);
    return [{ id: L1, listener: l }];
  };
  it.each([
    ['a newline in a member address', raw((l) => void (l.default_pool!.members[0]!.address = '192.0.2.11\nfilter del dev eth1 egress')), /member address is not a safe/],
    ['a space in a VIP', raw((l) => void (l.vip_addresses[0] = '203.0.113.10 action drop')), /VIP address is not a safe/],
    ['a fraction as a member port', raw((l) => void (l.default_pool!.members[0]!.protocol_port = 53.5)), /member port is not a port/],
    ['port 0', raw((l) => void (l.protocol_port = 0)), /listener port is not a port/],
    ['a listener id that is no UUID', [{ id: 'eeee action drop', listener: listener() }], /listener id is not a safe/],
  ] as [string, StoredListener[], RegExp][])('%s', (_what, ls, error) => {
    expect(() => batch(ls)).toThrow(error);
  });

  it('a device name with a space or a comment sign', () => {
    const rewrites = opsRewrites([{ id: L1, listener: listener() }]).rewrites;
    expect(() => renderOpsTcBatch([{ name: 'eth1 egress', prefs: [] }], rewrites)).toThrow(/device name is not a safe/);
    expect(() => renderOpsTcBatch([{ name: 'eth#1', prefs: [] }], rewrites)).toThrow(/device name is not a safe/);
  });

  it('a listener id that passes configToken but is no UUID cannot be a cookie', () => {
    expect(() => batch([{ id: 'not-a-uuid', listener: listener() }])).toThrow(/listener id is not a UUID/);
  });
});
