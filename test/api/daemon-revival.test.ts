/**
 * The owners' side of the reconcile job's restarts (services/daemon-revival.ts, ADR 0010), on the
 * production wiring with fakes (test/support/api-app.ts): a dead listener daemon the controller
 * started is started again through the init seam and reported ACTIVE; one the controller stopped
 * or deleted is never started; and a restart racing a DELETE or a start of the same object
 * waits for it (the services' per-object lock), so no daemon outlives its listener.
 */
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import type { Uuid } from '../../src/model/uuid.js';
import { pidFileState } from '../../src/system/processes.js';
import { apiApp } from '../support/api-app.js';

const AMP = '11111111-2222-3333-4444-555555555555';
const L1 = 'ffffffff-0000-0000-0000-0000000000b1' as Uuid;
const LB = 'aaaaaaaa-0000-4000-8000-0000000000b1' as Uuid;
const FRONTEND = 'eeeeeeee-0000-4000-8000-0000000000b1';

const LVS = `net_namespace amphora-haproxy
virtual_server_group ipv4-group {
    203.0.113.10 53
}
virtual_server group ipv4-group {
    lb_algo wrr
    lb_kind NAT
    protocol UDP
    real_server 198.51.100.11 5353 {
        weight 1
    }
}
`;
const HAPROXY = `global\n    daemon\n    stats socket /var/lib/octavia/${LB}.sock mode 0666 level user\n\nfrontend ${FRONTEND}\n    bind 203.0.113.10:80\n    mode tcp\n`;

type App = Parameters<typeof request>[0];

async function startedListener() {
  const t = await apiApp();
  await request(t.app as App).put(`/1.0/listeners/${AMP}/${L1}/udp_listener`).send(LVS).expect(200);
  await request(t.app as App).put(`/1.0/loadbalancer/${L1}/start`).expect(202);
  return t;
}

const statuses = async (app: App) => (await request(app).get('/1.0/listeners').expect(200)).body as { status: string; uuid: string }[];

describe('revive (the reconcile job restarting a dead daemon through its owner)', () => {
  it("starts a crashed listener's keepalived again through the init seam: ACTIVE, applied in the state", async () => {
    const t = await startedListener();
    t.init.crash(t.specs.lvs(L1));
    expect(await statuses(t.app)).toEqual([{ status: 'ERROR', uuid: L1, type: 'UDP' }]);
    t.init.calls.length = 0;
    expect(await t.revival.revive('lvs', L1)).toBe('started');
    expect(t.init.calls).toEqual([`start octavia-keepalivedlvs-${L1}`]);
    expect(await statuses(t.app)).toEqual([{ status: 'ACTIVE', uuid: L1, type: 'UDP' }]);
    expect(t.state.current.lvsListeners[L1]?.applied?.hash).toBe(t.state.current.lvsListeners[L1]?.installed?.hash);
  });

  it('answers alive for a running daemon, and starts nothing the controller stopped or deleted', async () => {
    const t = await startedListener();
    t.init.calls.length = 0;
    expect(await t.revival.revive('lvs', L1)).toBe('alive');
    await request(t.app as App).put(`/1.0/loadbalancer/${L1}/stop`).expect(202);
    expect(await t.revival.revive('lvs', L1)).toBe('not-wanted');
    await request(t.app as App).delete(`/1.0/listeners/${L1}`).expect(200);
    expect(await t.revival.revive('lvs', L1)).toBe('not-wanted');
    expect(t.init.calls.filter((c) => c.startsWith('start'))).toEqual([]);
  });

  it('a restart racing a DELETE of the same listener waits for it: no daemon is left behind', async () => {
    const t = await startedListener();
    t.init.crash(t.specs.lvs(L1));
    const [deleted, revived] = await Promise.all([request(t.app as App).delete(`/1.0/listeners/${L1}`), t.revival.revive('lvs', L1)]);
    expect(deleted.status).toBe(200);
    // whichever got the lock first: a restart before the delete, which then stops it, or none
    expect(['started', 'not-wanted']).toContain(revived);
    expect(await pidFileState(t.paths, t.paths.lvsPidFile(L1), t.specs.lvs(L1).identity)).toBe('absent');
    expect(await statuses(t.app)).toEqual([]);
  });

  it("a restart racing the controller's start makes one start", async () => {
    const t = await startedListener();
    t.init.crash(t.specs.lvs(L1));
    t.init.calls.length = 0;
    const [started, revived] = await Promise.all([request(t.app as App).put(`/1.0/loadbalancer/${L1}/start`), t.revival.revive('lvs', L1)]);
    expect(started.status).toBe(202);
    // the second to get the lock finds the daemon running: the start answers "unchanged", the restart "alive"
    expect(['started', 'alive']).toContain(revived);
    expect(t.init.calls.filter((c) => c.startsWith('start'))).toEqual([`start octavia-keepalivedlvs-${L1}`]);
  });

  it("starts a crashed load balancer's haproxy again; not once it is stopped", async () => {
    const t = await apiApp();
    await request(t.app as App).put(`/1.0/loadbalancer/${AMP}/${LB}/haproxy`).send(HAPROXY).expect(202);
    await request(t.app as App).put(`/1.0/loadbalancer/${LB}/start`).expect(202);
    t.init.crash(t.specs.haproxy(LB));
    expect(await statuses(t.app)).toEqual([{ status: 'ERROR', uuid: FRONTEND, type: 'TCP' }]);
    t.init.calls.length = 0;
    expect(await t.revival.revive('haproxy', LB)).toBe('started');
    expect(t.init.calls).toEqual([`start haproxy-${LB}`]);
    expect(await statuses(t.app)).toEqual([{ status: 'ACTIVE', uuid: FRONTEND, type: 'TCP' }]);
    await request(t.app as App).put(`/1.0/loadbalancer/${LB}/stop`).expect(202);
    expect(await t.revival.revive('haproxy', LB)).toBe('not-wanted');
  });

  it('a start that fails is an error for the job, and the listener stays ERROR', async () => {
    const t = await startedListener();
    t.init.crash(t.specs.lvs(L1));
    t.init.dieOnNextStart = true;
    await expect(t.revival.revive('lvs', L1)).rejects.toThrow();
    expect(await statuses(t.app)).toEqual([{ status: 'ERROR', uuid: L1, type: 'UDP' }]);
    expect(t.state.current.lvsListeners[L1]?.wantRunning).toBe(true);
  });
});
