/**
 * LvsIpvsSampler over the production wiring in a temporary root (FakeRunner: scripted
 * `keepalived --config-test` and ipvsadm listings; FakeInit: pid files and proc entries).
 * Listeners are installed the way the controller installs them, so the layout in the state is
 * the one `upload` (a config Octavia's templater rendered, src/model/__fixtures__/octavia-lvs/)
 * or API 2.0's `put` stored; the statuses follow the reference's rules (lvs-status.ts).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeInit } from '../../../test/fakes/fake-init.js';
import { FakeRunner } from '../../../test/fakes/fake-runner.js';
import { scriptIpvsadm, type TestVirtualServer } from '../../../test/support/ipvsadm-output.js';
import { member, merge, udpListener } from '../../../test/support/listener-fixtures.js';
import { serviceHarness } from '../../../test/support/service-harness.js';
import { pino } from 'pino';
import { CommandFailed } from '../../model/errors.js';
import type { Uuid } from '../../model/uuid.js';
import { LvsIpvsSampler } from './lvs-sampler.js';

const L1 = '11111111-0000-4000-8000-000000000001' as Uuid;
const L2 = '11111111-0000-4000-8000-000000000002' as Uuid;
const POOL = 'bbbbbbbb-0000-4000-8000-000000000001';
const m = (n: number) => `dddddddd-0000-4000-8000-00000000000${n}`;
const IPVSADM = '/opt/sbin/ipvsadm';
const NO_IPVS = "Can't initialize ipvs: Protocol not available\nAre you sure that IP Virtual Server is built in the kernel or as module?\n";

const octavia = (name: string) => Buffer.from(readFileSync(new URL(`../../model/__fixtures__/octavia-lvs/${name}.conf`, import.meta.url), 'utf8'));

/** The udp-connect render in IPVS: m1 and m4 (weight 5) serving, m2 at weight 0, m3 disabled (not rendered). */
const udpConnectTable = (): TestVirtualServer[] => [
  {
    protocol: 'UDP',
    address: '203.0.113.10',
    port: 53,
    stats: [30, 31, 29, 3100, 2900],
    realServers: [
      { address: '198.51.100.11', port: 5353, weight: 1, active: 1, inactive: 4, stats: [10, 11, 9, 1100, 900] },
      { address: '198.51.100.12', port: 5353, weight: 0, active: 0, inactive: 2, stats: [5, 5, 5, 500, 500] },
      { address: '198.51.100.14', port: 5354, weight: 5, active: 2, inactive: 6, stats: [15, 15, 15, 1500, 1500] },
    ],
  },
];

/** Both listings answer `reply` from now on (equal prefixes: the latest registered wins). */
const failIpvsadm = (runner: FakeRunner, reply: { exitCode: number | undefined; stderr: string }) =>
  runner.on([IPVSADM, '-Ln'], reply).on([IPVSADM, '-Ln', '--stats', '--exact'], reply);

async function setup() {
  const root = mkdtempSync(join(tmpdir(), 'lvs-sampler-'));
  const configText = `[haproxy_amphora]\nbase_path = ${root}/lib\n[amphora_agent]\nproc_dir = ${root}/proc\nnetns_run_dir = ${root}/netns\nprocess_settle_seconds = 0\nprocess_ready_timeout = 2\nipvsadm_cmd = ${IPVSADM}\n`;
  let table: TestVirtualServer[] = [];
  const runner = new FakeRunner().on(['/bin/sh'], { exitCode: 0 }).on(['/usr/sbin/keepalived', '--config-test'], { exitCode: 0 });
  scriptIpvsadm(runner, IPVSADM, () => table);
  const init = new FakeInit(join(root, 'proc'));
  const t = await serviceHarness({ configText, runner, init: () => init });
  // a logger that writes synchronously into `logLines`
  const logLines: string[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) });
  const sampler = new LvsIpvsSampler({ config: () => t.agentConfig.current, paths: t.paths, runner, state: t.state, log });
  /** Upload (API 1.0) and start, as the controller does. */
  const push = async (id: Uuid, conf: Buffer) => {
    await t.lvs.upload(id, conf);
    await t.lvs.act(id, 'start');
  };
  // the sampler's looks (not the starts' per-service proofs)
  const ipvsRuns = () => runner.calls.filter((c) => c.includes(IPVSADM) && c.includes('-Ln'));
  return { root, t, init, runner, sampler, push, ipvsRuns, logLines, setTable: (next: TestVirtualServer[]) => void (table = next) };
}

describe('LvsIpvsSampler', () => {
  it('reports an uploaded listener: OPEN, counters and connections from IPVS, each member as the reference decides', async () => {
    const s = await setup();
    await s.push(L1, octavia('udp-connect'));
    expect(s.t.state.current.lvsListeners[L1]?.installed?.layout?.pool?.members).toHaveLength(4);
    s.setTable(udpConnectTable());
    const [sample, ...more] = await s.sampler.sample();
    expect(more).toEqual([]);
    expect(sample?.listener).toEqual({ id: L1, status: 'OPEN', counters: { bin: 3100, bout: 2900, stot: 30, ereq: 0 }, scur: 3 });
    expect(sample?.ipvs).toEqual({ conns: 30, inPackets: 31, outPackets: 29, inBytes: 3100, outBytes: 2900 });
    expect(sample?.pool).toEqual({ key: POOL, poolId: POOL, status: 'UP', members: { [m(1)]: 'UP', [m(2)]: 'DRAIN', [m(3)]: 'MAINT', [m(4)]: 'UP' } });
    expect(sample?.members.find((x) => x.id === m(4))).toEqual({
      id: m(4),
      address: '198.51.100.14',
      port: 5354,
      status: 'UP',
      inIpvs: true,
      weight: 5,
      activeConns: 2,
      inactiveConns: 6,
      counters: { conns: 15, inPackets: 15, outPackets: 15, inBytes: 1500, outBytes: 1500 },
    });
    expect(sample?.members.find((x) => x.id === m(3))).toMatchObject({ status: 'MAINT', inIpvs: false, address: '', port: 0, counters: null });
    expect(s.ipvsRuns().map((c) => c.join(' '))).toEqual([`ip netns exec amphora-haproxy ${IPVSADM} -Ln`, `ip netns exec amphora-haproxy ${IPVSADM} -Ln --stats --exact`]);
  });

  it('a member keepalived took out of IPVS is DOWN; RESTARTING while the installed config is not the one keepalived runs', async () => {
    const s = await setup();
    await s.push(L1, octavia('udp-connect'));
    const [vs] = udpConnectTable();
    s.setTable([{ ...vs!, realServers: vs!.realServers.filter((rs) => rs.address !== '198.51.100.11') }]);
    expect((await s.sampler.sample())[0]?.pool).toMatchObject({ status: 'UP', members: { [m(1)]: 'DOWN', [m(2)]: 'DRAIN', [m(4)]: 'UP' } });
    expect((await s.sampler.sample())[0]?.members.find((x) => x.id === m(1))).toMatchObject({ inIpvs: false, weight: null, counters: null, activeConns: 0 });
    // a new config uploaded, not reloaded yet (API 1.0: upload, then reload)
    await s.t.lvs.upload(L1, Buffer.concat([octavia('udp-connect'), Buffer.from('# changed\n')]));
    expect((await s.sampler.sample())[0]?.pool?.members[m(1)]).toBe('RESTARTING');
    await s.t.lvs.act(L1, 'reload');
    expect((await s.sampler.sample())[0]?.pool?.members[m(1)]).toBe('DOWN');
  });

  it('no virtual server in IPVS: counters null, pool DOWN when monitored, members DOWN; unmonitored: UP and "no check"', async () => {
    const s = await setup();
    await s.push(L1, octavia('udp-connect'));
    await s.push(L2, Buffer.from(octavia('no-monitor').toString().replaceAll('11111111-0000-4000-8000-000000000001', L2).replace('203.0.113.10 53', '203.0.113.10 54')));
    const [l1, l2] = (await s.sampler.sample()).sort((a, b) => a.listener.id.localeCompare(b.listener.id));
    expect(l1).toMatchObject({ listener: { status: 'OPEN', counters: null, scur: 0 }, ipvs: null });
    expect(l1?.pool).toEqual({ key: POOL, poolId: POOL, status: 'DOWN', members: { [m(1)]: 'DOWN', [m(2)]: 'DOWN', [m(3)]: 'MAINT', [m(4)]: 'DOWN' } });
    expect(l2?.pool).toMatchObject({ status: 'UP', members: { 'dddddddd-0000-4000-8000-000000000001': 'no check', 'dddddddd-0000-4000-8000-000000000002': 'no check' } });
    // one look for both listeners
    expect(s.ipvsRuns()).toHaveLength(2);
  });

  it('a kernel without IPVS reads as an empty table, logged once', async () => {
    const s = await setup();
    await s.push(L1, octavia('udp-connect'));
    failIpvsadm(s.runner, { exitCode: 2, stderr: NO_IPVS });
    for (let i = 0; i < 2; i++) expect((await s.sampler.sample())[0]).toMatchObject({ listener: { counters: null }, pool: { status: 'DOWN' } });
    expect(s.logLines.filter((l) => l.includes('no IPVS in this kernel'))).toHaveLength(1);
  });

  it('rejects with CommandFailed when ipvsadm fails otherwise (the reference sends no heartbeat then)', async () => {
    const s = await setup();
    await s.push(L1, octavia('udp-connect'));
    failIpvsadm(s.runner, { exitCode: undefined, stderr: 'spawn /opt/sbin/ipvsadm ENOENT' });
    await expect(s.sampler.sample()).rejects.toBeInstanceOf(CommandFailed);
  });

  it('leaves out stopped and disabled listeners, and does not read IPVS when no listener has a virtual server', async () => {
    const s = await setup();
    await s.push(L1, octavia('listener-disabled'));
    await s.push(L2, Buffer.from(octavia('no-pool').toString().replaceAll('11111111-0000-4000-8000-000000000001', L2)));
    expect(await s.sampler.sample()).toEqual([{ kind: 'lvs', protocol: 'UDP', listener: { id: L2, status: 'OPEN', counters: null, scur: 0 }, pool: null, ipvs: null, members: [] }]);
    expect(s.ipvsRuns()).toEqual([]);
    await s.t.lvs.act(L2, 'stop');
    expect(await s.sampler.sample()).toEqual([]);
  });

  it('sums every VIP of both families, and keeps an SCTP listener on the same VIP and port apart', async () => {
    const s = await setup();
    await s.push(L1, octavia('dual-stack'));
    const sctp = octavia('sctp').toString().replaceAll('11111111-0000-4000-8000-000000000001', L2).replace('203.0.113.10 5004', '203.0.113.10 53');
    await s.push(L2, Buffer.from(sctp));
    s.setTable([
      { protocol: 'UDP', address: '203.0.113.10', port: 53, stats: [1, 1, 1, 100, 10], realServers: [{ address: '198.51.100.11', port: 5353, stats: [1, 1, 1, 100, 10] }, { address: '198.51.100.14', port: 5353, inactive: 1 }] },
      { protocol: 'UDP', address: '203.0.113.11', port: 53, stats: [2, 2, 2, 200, 20], realServers: [{ address: '198.51.100.11', port: 5353, stats: [2, 2, 2, 200, 20] }, { address: '198.51.100.14', port: 5353, inactive: 2 }] },
      { protocol: 'UDP', address: '2001:db8::10', port: 53, stats: [4, 4, 4, 400, 40], realServers: [{ address: '2001:db8:1::12', port: 5353, weight: 0, stats: [4, 4, 4, 400, 40] }] },
      { protocol: 'SCTP', address: '203.0.113.10', port: 53, stats: [8, 8, 8, 800, 80], realServers: [{ address: '198.51.100.11', port: 5353 }, { address: '198.51.100.12', port: 5353 }] },
    ]);
    const samples = await s.sampler.sample();
    const udp = samples.find((x) => x.listener.id === L1);
    expect(udp?.listener.counters).toEqual({ bin: 700, bout: 70, stot: 7, ereq: 0 });
    expect(udp?.pool?.members).toEqual({ [m(1)]: 'UP', [m(2)]: 'DRAIN', [m(3)]: 'MAINT', [m(4)]: 'UP' });
    expect(udp?.members.find((x) => x.id === m(1))).toMatchObject({ counters: { conns: 3, inBytes: 300 }, inactiveConns: 0 });
    expect(udp?.members.find((x) => x.id === m(4))).toMatchObject({ inactiveConns: 3, counters: { conns: 0 } });
    const sctpSample = samples.find((x) => x.listener.id === L2);
    expect(sctpSample).toMatchObject({ protocol: 'SCTP', listener: { counters: { stot: 8 } }, pool: { status: 'UP' } });
  });

  it('API 2.0: the layout comes from what was rendered, disabled members with their addresses', async () => {
    const s = await setup();
    const model = merge(udpListener(), { default_pool: { members: [member(1), member(2, { admin_state_up: false })] } });
    await s.t.models.put(L1, Buffer.from(JSON.stringify(model)));
    s.setTable([{ protocol: 'UDP', address: '203.0.113.10', port: 53, realServers: [{ address: '192.0.2.11', port: 5353 }] }]);
    const [sample] = await s.sampler.sample();
    expect(sample?.pool?.members).toEqual({ 'dddddddd-0000-0000-0000-000000000001': 'UP', 'dddddddd-0000-0000-0000-000000000002': 'MAINT' });
    expect(sample?.members.map((x) => [x.address, x.port, x.inIpvs])).toEqual([
      ['192.0.2.11', 5353, true],
      ['192.0.2.12', 5353, false],
    ]);
  });

  it('state from an older agent (no layout): reads the config file once per installed config', async () => {
    const s = await setup();
    await s.push(L1, octavia('udp-connect'));
    await s.t.state.update((st) => void delete st.lvsListeners[L1]?.installed?.layout);
    s.setTable(udpConnectTable());
    expect((await s.sampler.sample())[0]?.pool?.members[m(2)]).toBe('DRAIN');
    // the same installed hash: the layout read before is used, not the file
    writeFileSync(s.t.paths.lvsConfig(L1), octavia('no-pool'));
    expect((await s.sampler.sample())[0]?.pool?.members[m(2)]).toBe('DRAIN');
  });
});
