/**
 * API 2.0 and ONE_PACKET_SCHEDULING: PUT and DELETE keep the amphora namespace's tc egress
 * filters (members' replies from the VIP) in step with the stored listeners, through the fake
 * runner's tc (test/fakes/fake-tc.ts), which records each batch with its standard input.
 */
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { apiApp } from '../support/api-app.js';
import { member, merge, udpListener } from '../support/listener-fixtures.js';

const L1 = 'eeeeeeee-0000-0000-0000-0000000000e1';
const L2 = 'eeeeeeee-0000-0000-0000-0000000000e2';
type App = Parameters<typeof request>[0];
const put = (app: App, id: string, body: unknown) => request(app).put(`/2.0/listeners/${id}`).send(JSON.stringify(body));
const ops = (patch: Record<string, unknown> = {}) => merge(merge(udpListener(), { default_pool: { session_persistence: { type: 'ONE_PACKET_SCHEDULING' } } }), patch);
const filter = (dev: string, memberIp: string, vip = '203.0.113.10', vport = 53, id = L1) =>
  `filter add dev ${dev} egress pref 4004 protocol ip flower ip_proto udp src_ip ${memberIp} src_port 5353 action pedit ex munge ip src set ${vip} munge udp sport set ${vport} pipe action csum ip4h udp cookie ${id.replaceAll('-', '')}`;
const tcRuns = (t: Awaited<ReturnType<typeof apiApp>>) => t.runner.runs.filter((r) => r.argv[4] === '/sbin/tc');

describe('API 2.0: ONE_PACKET_SCHEDULING listeners rewrite their members\' replies to come from the VIP', () => {
  it('PUT applies one tc batch in the namespace; the same rewrites again, or another listener, run no tc', async () => {
    const t = await apiApp();
    await put(t.app, L1, ops()).expect(200);
    const batches = tcRuns(t).filter((r) => r.argv[5] === '-batch');
    expect(batches.map((r) => [r.argv.slice(0, 4).join(' '), r.argv.slice(4).join(' ')])).toEqual([['ip netns exec amphora-haproxy', '/sbin/tc -batch -']]);
    expect(batches[0]?.input).toBe(
      [
        'qdisc replace dev eth1 clsact',
        filter('eth1', '192.0.2.11'),
        filter('eth1', '192.0.2.12'),
        'qdisc replace dev eth2 clsact',
        filter('eth2', '192.0.2.11'),
        filter('eth2', '192.0.2.12'),
        '',
      ].join('\n'),
    );
    const n = t.runner.calls.length;
    const before = tcRuns(t).length;
    await put(t.app, L1, ops({ name: 'same rewrites' })).expect(200);
    await put(t.app, L2, merge(udpListener(), { protocol_port: 54 })).expect(200);
    expect(t.runner.calls.length).toBeGreaterThan(n);
    expect(tcRuns(t).length).toBe(before);
  });

  it('a member added or disabled, another persistence, DELETE: the filters follow', async () => {
    const t = await apiApp();
    await put(t.app, L1, ops()).expect(200);
    await put(t.app, L1, ops({ default_pool: { members: [member(1, { admin_state_up: false }), member(2), member(3)] } })).expect(200);
    expect(t.tc.lines('eth1')).toEqual([filter('eth1', '192.0.2.12'), filter('eth1', '192.0.2.13')]);
    expect(t.tc.batches.at(-1)).toMatch(/^qdisc replace dev eth1 clsact\nfilter del dev eth1 egress pref 4004 protocol ip\n/);
    await put(t.app, L1, ops({ default_pool: { session_persistence: { type: 'SOURCE_IP' } } })).expect(200);
    expect(t.tc.batches.at(-1)).toBe('filter del dev eth1 egress pref 4004 protocol ip\nfilter del dev eth2 egress pref 4004 protocol ip\n');
    expect(t.tc.lines('eth1')).toEqual([]);

    await put(t.app, L1, ops()).expect(200);
    await put(t.app, L2, ops({ vip_addresses: ['198.51.100.10'], protocol_port: 514, default_pool: { members: [member(5)] } })).expect(200);
    expect(t.tc.lines('eth2')).toEqual([filter('eth2', '192.0.2.11'), filter('eth2', '192.0.2.12'), filter('eth2', '192.0.2.15', '198.51.100.10', 514, L2)]);
    await request(t.app).delete(`/2.0/listeners/${L1}`).expect(200);
    expect(t.tc.lines('eth2')).toEqual([filter('eth2', '192.0.2.15', '198.51.100.10', 514, L2)]);
    // DELETE of API 1.0 forgets the model, and its filters with it
    await request(t.app).delete(`/1.0/listeners/${L2}`).expect(200);
    expect([t.tc.lines('eth1'), t.tc.lines('eth2')]).toEqual([[], []]);
  });

  it('validate runs no tc', async () => {
    const t = await apiApp();
    await request(t.app).post(`/2.0/listeners/${L1}/validate`).send(JSON.stringify(ops())).expect(200);
    expect(tcRuns(t)).toEqual([]);
  });

  it('a tc failure is a 500 naming the command; the next PUT applies the filters', async () => {
    const t = await apiApp();
    t.tc.failBatches = true;
    const res = await put(t.app, L1, ops()).expect(500);
    expect(res.body).toMatchObject({ code: 'command_failed', message: expect.stringContaining('tc -batch -') });
    expect(res.body.details).toContain('TC classifier not found');
    t.tc.failBatches = false;
    await put(t.app, L1, ops()).expect(200);
    expect(t.tc.lines('eth1')).toHaveLength(2);
  });
});
