/**
 * Issue 14 item 11: a start is decided on a fact, not on a delay. A keepalived that is alive when
 * `process_settle_seconds` ends but whose virtual servers never reach IPVS (the kernel has no
 * IPVS, or keepalived could not program a service) is a 500, and the listener is not recorded as
 * running that config. The API app's fakes stand for the kernel here (FakeInit keeps a stand-in
 * keepalived alive; FakeRunner answers ipvsadm as the test scripts it); the positive side, real
 * keepalived making real IPVS services that the proof finds, is every LVS start of the VM tier
 * (test/e2e: `single`, `changes`, the controller-VM tier), which would all fail without it.
 */
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import type { Uuid } from '../../../src/model/uuid.js';
import { apiApp } from '../../support/api-app.js';
import { merge, udpListener } from '../../support/listener-fixtures.js';

type App = Parameters<typeof request>[0];
const L1 = 'eeeeeeee-0000-4000-8000-0000000000f1' as Uuid;
const put = (app: App, body: unknown) => request(app).put(`/2.0/listeners/${L1}`).send(JSON.stringify(body));

describe('fault 11: a start is proven by the listener\'s services in IPVS', () => {
  it('a keepalived that stays alive but whose services never appear in IPVS: 500 naming them, not recorded as applied', async () => {
    const t = await apiApp('[amphora_agent]\nprocess_ready_timeout = 1\n');
    t.runner.on(['/usr/sbin/ipvsadm', '-L', '-n'], { exitCode: 1, stderr: 'No such service' });
    const res = await put(t.app as App, udpListener());
    expect(res.status).toBe(500);
    expect(JSON.stringify(res.body)).toMatch(/not in IPVS in namespace amphora-haproxy: UDP 203\.0\.113\.10:53/);
    expect(t.state.current.lvsListeners[L1]?.applied ?? null).toBeNull();
    // the proof asked the kernel for that very service, inside the namespace
    expect(t.runner.calls.some((c) => c.join(' ') === 'ip netns exec amphora-haproxy /usr/sbin/ipvsadm -L -n -u 203.0.113.10:53')).toBe(true);
  });

  it('a kernel without IPVS: 500 at once with ipvsadm\'s words', async () => {
    const t = await apiApp('[amphora_agent]\nprocess_ready_timeout = 30\n');
    t.runner.on(['/usr/sbin/ipvsadm', '-L', '-n'], { exitCode: 2, stderr: "Can't initialize ipvs: Protocol not available\nAre you sure that IP Virtual Server is built in the kernel or as module?" });
    const res = await put(t.app as App, udpListener());
    expect(res.status).toBe(500);
    expect(JSON.stringify(res.body)).toMatch(/cannot be in IPVS: Can't initialize ipvs/);
    // final at the first look: the kernel was asked once, not until the 30 s ready timeout
    expect(t.runner.calls.filter((c) => c.includes('/usr/sbin/ipvsadm') && c.includes('-L')).length).toBe(1);
  });

  it('services that appear: started; a listener whose config puts nothing in IPVS needs none', async () => {
    const t = await apiApp();
    expect((await put(t.app as App, udpListener())).status).toBe(200);
    const t2 = await apiApp();
    t2.runner.on(['/usr/sbin/ipvsadm', '-L', '-n'], { exitCode: 1, stderr: 'No such service' });
    // no members: keepalived leaves the virtual server out of IPVS, and the start is proven by its processes
    const empty = merge(udpListener(), { default_pool: { members: [] } });
    expect((await put(t2.app as App, empty)).status).toBe(200);
  });
});
