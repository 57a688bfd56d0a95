/**
 * AgentMetrics with scripted samplers: the exposition text of a scrape, read back with the test
 * parser, has each family's values, labels and TYPE; one look per scrape; objects that are gone
 * leave no series; a failing source empties its families and says so.
 */
import { register as globalRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { captureLogger } from '../../../test/support/agent-process.js';
import { FakeDaemonLiveness, FakeHaproxySampler, FakeLvsSampler } from '../../../test/fakes/fake-metrics-samplers.js';
import { parsePromText } from '../../../test/support/prom-text.js';
import { haproxyLb, ipvs, lvsListener, lvsMember, row } from '../../../test/support/telemetry-samples.js';
import { silentLogger } from '../../log.js';
import { DaemonRestartCounts } from '../daemon-revival.js';
import { AgentMetrics, type AgentMetricsDeps } from './agent-metrics.js';

const L1 = '11111111-1111-4111-8111-111111111111';
const L2 = '22222222-2222-4222-8222-222222222222';
const P1 = '33333333-3333-4333-8333-333333333333';
const M1 = '44444444-4444-4444-8444-444444444444';
const M2 = '55555555-5555-4555-8555-555555555555';
const LB = '66666666-6666-4666-8666-666666666666';
const HL = '77777777-7777-4777-8777-777777777777';
const HP = '88888888-8888-4888-8888-888888888888';

function udpListener() {
  return lvsListener(L1, P1, [
    lvsMember({ id: M1, address: '203.0.113.11', port: 5000, activeConns: 3, inactiveConns: 7, weight: 2, counters: ipvs({ conns: 10, inPackets: 100, outPackets: 90, inBytes: 5000, outBytes: 4500 }) }),
    lvsMember({ id: M2, address: '2001:db8::12', port: 5001, status: 'DOWN', inIpvs: false, activeConns: 0, inactiveConns: 0, weight: null, counters: null }),
  ], { ipvs: ipvs({ conns: 10, inPackets: 100, outPackets: 90, inBytes: 5000, outBytes: 4500 }) });
}

function metrics(deps: Partial<AgentMetricsDeps> = {}) {
  return new AgentMetrics({ processMetrics: false, log: silentLogger(), ...deps });
}

async function scrape(m: AgentMetrics) {
  return parsePromText(await m.scrape());
}

describe('AgentMetrics: LVS listeners', () => {
  it("exports a listener's IPVS counters as counters with its id and protocol", async () => {
    const text = await scrape(metrics({ lvs: new FakeLvsSampler([udpListener()]) }));
    const listener = { listener_id: L1, protocol: 'UDP' };
    expect(text.value('amphora_lvs_listener_packets_in_total', listener)).toBe(100);
    expect(text.value('amphora_lvs_listener_packets_out_total', listener)).toBe(90);
    expect(text.value('amphora_lvs_listener_bytes_in_total', listener)).toBe(5000);
    expect(text.value('amphora_lvs_listener_bytes_out_total', listener)).toBe(4500);
    expect(text.value('amphora_lvs_listener_connections_total', listener)).toBe(10);
    expect(text.value('amphora_lvs_listener_active_connections', listener)).toBe(3);
    expect(text.value('amphora_lvs_listener_inactive_connections', listener)).toBe(7);
    expect(text.value('amphora_lvs_pool_up', { ...listener, pool_id: P1 })).toBe(1);
    expect(text.types.get('amphora_lvs_listener_bytes_in_total')).toBe('counter');
    expect(text.types.get('amphora_lvs_listener_active_connections')).toBe('gauge');
    expect(text.find('amphora_lvs_listener_bytes_in_total')[0]?.labels).toEqual(listener);
  });

  it('exports each member with its address, port, pool and status; a member out of IPVS has no counters', async () => {
    const text = await scrape(metrics({ lvs: new FakeLvsSampler([udpListener()]) }));
    const up = { listener_id: L1, pool_id: P1, member_id: M1, address: '203.0.113.11', port: '5000', protocol: 'UDP' };
    const down = { listener_id: L1, pool_id: P1, member_id: M2, address: '2001:db8::12', port: '5001', protocol: 'UDP' };
    expect(text.find('amphora_lvs_member_bytes_in_total')[0]?.labels).toEqual(up);
    expect(text.value('amphora_lvs_member_packets_in_total', up)).toBe(100);
    expect(text.value('amphora_lvs_member_connections_total', up)).toBe(10);
    expect(text.value('amphora_lvs_member_active_connections', up)).toBe(3);
    expect(text.value('amphora_lvs_member_inactive_connections', up)).toBe(7);
    expect(text.value('amphora_lvs_member_weight', up)).toBe(2);
    expect(text.value('amphora_lvs_member_up', up)).toBe(1);
    expect(text.value('amphora_lvs_member_in_ipvs', up)).toBe(1);
    expect(text.value('amphora_lvs_member_status', { ...up, status: 'UP' })).toBe(1);

    expect(text.value('amphora_lvs_member_up', down)).toBe(0);
    expect(text.value('amphora_lvs_member_in_ipvs', down)).toBe(0);
    expect(text.value('amphora_lvs_member_status', { ...down, status: 'DOWN' })).toBe(1);
    expect(text.find('amphora_lvs_member_bytes_in_total', { member_id: M2 })).toEqual([]);
    expect(text.find('amphora_lvs_member_weight', { member_id: M2 })).toEqual([]);
  });

  it('maps each heartbeat status to up or not, and keeps the word in the status label', async () => {
    const statuses = ['UP', 'DRAIN', 'no check', 'DOWN', 'MAINT', 'RESTARTING'];
    const members = statuses.map((status, i) => lvsMember({ id: `m${i}`, address: `203.0.113.${i + 1}`, status }));
    const text = await scrape(metrics({ lvs: new FakeLvsSampler([lvsListener(L1, P1, members)]) }));
    const up = statuses.map((_s, i) => text.value('amphora_lvs_member_up', { member_id: `m${i}` }));
    expect(up).toEqual([1, 1, 1, 0, 0, 0]);
    expect(statuses.map((status, i) => text.value('amphora_lvs_member_status', { member_id: `m${i}`, status }))).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('leaves out the counters of a listener whose virtual server is not in IPVS, and the pool of a listener without one', async () => {
    const idle = lvsListener(L2, null, [], { protocol: 'SCTP', ipvs: null });
    const text = await scrape(metrics({ lvs: new FakeLvsSampler([udpListener(), idle]) }));
    expect(text.find('amphora_lvs_listener_bytes_in_total').map((s) => s.labels['listener_id'])).toEqual([L1]);
    expect(text.find('amphora_lvs_listener_active_connections', { listener_id: L2 })).toEqual([]);
    expect(text.find('amphora_lvs_pool_up').map((s) => s.labels['listener_id'])).toEqual([L1]);
  });
});

describe('AgentMetrics: haproxy load balancers', () => {
  const backend = `${HP}:${HL}`;
  const lb = () =>
    haproxyLb(LB, HL, HP, [
      row(HL, 'FRONTEND', { bin: 1000, bout: 2000, stot: 30, scur: 4, ereq: 2 }),
      row(backend, 'BACKEND', { bin: 900, bout: 1900, stot: 29, scur: 4, econ: 1, eresp: 3 }),
      row(backend, M1, { bin: 600, bout: 1200, stot: 20, scur: 3, econ: 1, eresp: 2 }),
      row(backend, M2, { status: 'DOWN 1/2', bin: 300, bout: 700, stot: 9, scur: 1, eresp: 1 }),
    ]);

  it('exports frontends with their listener id, backends with their pool id, servers with their member id', async () => {
    const text = await scrape(metrics({ haproxy: new FakeHaproxySampler([lb()]) }));
    const fe = { load_balancer_id: LB, proxy: HL, listener_id: HL };
    const be = { load_balancer_id: LB, proxy: backend, pool_id: HP };
    const s1 = { ...be, member_id: M1 };
    expect(text.find('amphora_haproxy_frontend_bytes_in_total')[0]?.labels).toEqual(fe);
    expect(text.value('amphora_haproxy_frontend_bytes_in_total', fe)).toBe(1000);
    expect(text.value('amphora_haproxy_frontend_bytes_out_total', fe)).toBe(2000);
    expect(text.value('amphora_haproxy_frontend_sessions_total', fe)).toBe(30);
    expect(text.value('amphora_haproxy_frontend_current_sessions', fe)).toBe(4);
    expect(text.value('amphora_haproxy_frontend_request_errors_total', fe)).toBe(2);
    expect(text.value('amphora_haproxy_frontend_status', { ...fe, status: 'OPEN' })).toBe(1);
    expect(text.find('amphora_haproxy_backend_bytes_in_total')[0]?.labels).toEqual(be);
    expect(text.value('amphora_haproxy_backend_connection_errors_total', be)).toBe(1);
    expect(text.value('amphora_haproxy_backend_response_errors_total', be)).toBe(3);
    expect(text.value('amphora_haproxy_backend_up', be)).toBe(1);
    expect(text.find('amphora_haproxy_server_bytes_in_total', { member_id: M1 })[0]?.labels).toEqual(s1);
    expect(text.value('amphora_haproxy_server_bytes_out_total', s1)).toBe(1200);
    expect(text.value('amphora_haproxy_server_sessions_total', s1)).toBe(20);
    expect(text.value('amphora_haproxy_server_current_sessions', s1)).toBe(3);
    expect(text.value('amphora_haproxy_server_response_errors_total', s1)).toBe(2);
    expect(text.value('amphora_haproxy_server_up', s1)).toBe(1);
    expect(text.value('amphora_haproxy_server_up', { member_id: M2 })).toBe(0);
    expect(text.value('amphora_haproxy_server_status', { member_id: M2, status: 'DOWN 1/2' })).toBe(1);
    // a frontend has no connection errors, a server no request errors
    expect(text.find('amphora_haproxy_frontend_connection_errors_total')).toEqual([]);
    expect(text.find('amphora_haproxy_server_request_errors_total')).toEqual([]);
    expect(text.types.get('amphora_haproxy_server_sessions_total')).toBe('counter');
  });

  it('keeps haproxy\'s proxy name when the sample does not confirm it as a listener or pool', async () => {
    const sample = { ...lb(), listeners: [], pools: [] };
    const text = await scrape(metrics({ haproxy: new FakeHaproxySampler([sample]) }));
    expect(text.find('amphora_haproxy_frontend_bytes_in_total')[0]?.labels).toEqual({ load_balancer_id: LB, proxy: HL });
    expect(text.find('amphora_haproxy_server_bytes_in_total', { member_id: M1 })[0]?.labels).toEqual({ load_balancer_id: LB, proxy: backend, member_id: M1 });
  });
});

describe('AgentMetrics: daemons', () => {
  it('exports wanted and alive with the same labels per daemon', async () => {
    const daemons = new FakeDaemonLiveness([
      { daemon: 'keepalived_lvs', id: L1, wanted: true, alive: false },
      { daemon: 'keepalived_vrrp', id: null, wanted: true, alive: true },
      { daemon: 'haproxy', id: LB, wanted: false, alive: false },
    ]);
    const text = await scrape(metrics({ daemons }));
    expect(text.find('amphora_daemon_alive').map((s) => [s.labels, s.value])).toEqual([
      [{ daemon: 'keepalived_lvs', listener_id: L1 }, 0],
      [{ daemon: 'keepalived_vrrp' }, 1],
      [{ daemon: 'haproxy', load_balancer_id: LB }, 0],
    ]);
    expect(text.find('amphora_daemon_wanted').map((s) => [s.labels, s.value])).toEqual([
      [{ daemon: 'keepalived_lvs', listener_id: L1 }, 1],
      [{ daemon: 'keepalived_vrrp' }, 1],
      [{ daemon: 'haproxy', load_balancer_id: LB }, 0],
    ]);
  });
});

describe('AgentMetrics: scrapes', () => {
  it('looks at each source once per scrape, and scrapes that overlap share one look', async () => {
    const lvs = new FakeLvsSampler([udpListener()]);
    const haproxy = new FakeHaproxySampler([]);
    const m = metrics({ lvs, haproxy });
    await m.scrape();
    await m.scrape();
    expect([lvs.looks, haproxy.looks]).toEqual([2, 2]);

    lvs.hold();
    const first = m.scrape();
    const second = m.scrape();
    lvs.release();
    const [a, b] = await Promise.all([first, second]);
    expect([lvs.looks, haproxy.looks]).toEqual([3, 3]);
    expect(b).toBe(a);
    expect(parsePromText(a).value('amphora_lvs_listener_bytes_in_total', { listener_id: L1 })).toBe(5000);
  });

  it('exports the count the daemon reports, so a restarted daemon shows a counter reset, and drops series of objects that are gone', async () => {
    const lvs = new FakeLvsSampler([udpListener()]);
    const m = metrics({ lvs });
    expect((await scrape(m)).value('amphora_lvs_listener_bytes_in_total', { listener_id: L1 })).toBe(5000);
    lvs.samples = [lvsListener(L1, P1, [], { ipvs: ipvs({ inBytes: 40 }) })];
    const after = await scrape(m);
    expect(after.value('amphora_lvs_listener_bytes_in_total', { listener_id: L1 })).toBe(40);
    expect(after.find('amphora_lvs_member_up')).toEqual([]);
    lvs.samples = [];
    expect((await scrape(m)).find('amphora_lvs_listener_bytes_in_total')).toEqual([]);
  });

  it('reports a source it cannot read as down, with its families empty, and logs it once until it recovers', async () => {
    const logged = captureLogger();
    const lvs = new FakeLvsSampler([udpListener()]).failWith(new Error('ipvsadm: not found'));
    const m = metrics({ lvs, haproxy: new FakeHaproxySampler([]), log: logged.log });
    const failed = await scrape(m);
    await scrape(m);
    expect(failed.value('amphora_metrics_source_up', { source: 'lvs' })).toBe(0);
    expect(failed.value('amphora_metrics_source_up', { source: 'haproxy' })).toBe(1);
    expect(failed.find('amphora_lvs_member_up')).toEqual([]);
    expect(logged.lines.filter((l) => l['msg'] === 'metrics: cannot read the source; its families stay empty until it can')).toHaveLength(1);

    lvs.failWith(null);
    const back = await scrape(m);
    expect(back.value('amphora_metrics_source_up', { source: 'lvs' })).toBe(1);
    expect(back.value('amphora_lvs_member_up', { member_id: M1 })).toBe(1);
    expect(logged.lines.filter((l) => l['msg'] === 'metrics: the source can be read again')).toHaveLength(1);
  });

  it('has no source series and no samples for sources that are not wired', async () => {
    const text = await scrape(metrics({ daemons: new FakeDaemonLiveness([]) }));
    expect(text.find('amphora_metrics_source_up').map((s) => s.labels)).toEqual([{ source: 'daemons' }]);
    expect(text.samples.filter((s) => s.name.startsWith('amphora_lvs_') || s.name.startsWith('amphora_haproxy_'))).toEqual([]);
  });

  it("adds the process's own metrics under amphora_agent_, in its own registry", async () => {
    const a = new AgentMetrics({ log: silentLogger() });
    const b = new AgentMetrics({ log: silentLogger() });
    const text = await scrape(a);
    expect(text.value('amphora_agent_process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(text.value('amphora_agent_process_start_time_seconds')).toBeGreaterThan(1_600_000_000);
    expect(text.types.get('amphora_agent_nodejs_heap_size_used_bytes')).toBe('gauge');
    expect((await scrape(b)).find('amphora_agent_process_resident_memory_bytes')).toHaveLength(1);
    expect(await globalRegistry.metrics()).toBe('\n');
  });
});

describe('AgentMetrics: the reconcile job restarts (ADR 0010)', () => {
  it('exports amphora_daemon_restarts_total per daemon and outcome as a counter; none before the first', async () => {
    const restarts = new DaemonRestartCounts();
    const m = metrics({ restarts });
    expect((await scrape(m)).find('amphora_daemon_restarts_total')).toEqual([]);
    restarts.add('lvs', 'started');
    restarts.add('lvs', 'started');
    restarts.add('haproxy', 'failed');
    restarts.add('haproxy', 'given_up');
    const text = await scrape(m);
    expect(text.types.get('amphora_daemon_restarts_total')).toBe('counter');
    expect(text.value('amphora_daemon_restarts_total', { daemon: 'keepalived_lvs', outcome: 'started' })).toBe(2);
    expect(text.value('amphora_daemon_restarts_total', { daemon: 'haproxy', outcome: 'failed' })).toBe(1);
    expect(text.value('amphora_daemon_restarts_total', { daemon: 'haproxy', outcome: 'given_up' })).toBe(1);
    expect(text.find('amphora_daemon_restarts_total')).toHaveLength(3);
  });
});
