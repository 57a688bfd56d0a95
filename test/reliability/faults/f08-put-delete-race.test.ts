/**
 * Fault 8 of issue 14: `PUT /2.0/listeners/X` racing `DELETE /1.0/listeners/X` answered 200
 * twice and left a ghost model (no config, no keepalived, not listed) that took its VIP and port
 * (409 for any other listener on them). The API runs over a real HTTP server on loopback (the
 * in-process app of test/support/api-app, real files, fake runner and init); each round sends
 * both requests with the DELETE a little later each time, so that it lands before, during and
 * after the PUT. After both answered, the agent's state must be one of the two consistent
 * outcomes: the listener exists everywhere (model, config, unit, listed) or nowhere, and
 * in the second case its port is free again.
 */
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Uuid } from '../../../src/model/uuid.js';
import { apiApp } from '../../support/api-app.js';
import { LB, merge, udpListener } from '../../support/listener-fixtures.js';

const ROUNDS = 60;
const OTHER = 'eeeeeeee-0000-0000-0000-0000000000ff';
const listenerId = (n: number) => `eeeeeeee-0000-0000-0000-${String(n).padStart(12, '0')}` as Uuid;

let t: Awaited<ReturnType<typeof apiApp>>;
let server: Server;
let base: string;

beforeAll(async () => {
  t = await apiApp();
  server = createServer(t.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const call = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${base}${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: res.status, body: (await res.json()) as unknown };
};

describe('f08: PUT /2.0/listeners racing DELETE /1.0/listeners', () => {
  it(`leaves the listener everywhere or nowhere, ${ROUNDS} rounds`, async () => {
    const outcomes = { kept: 0, gone: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      const id = listenerId(round + 1);
      const put = call('PUT', `/2.0/listeners/${id}`, udpListener());
      // from before the PUT has begun to after it has answered
      await sleep(round % 12);
      const del = call('DELETE', `/1.0/listeners/${id}`);
      const [p, d] = await Promise.all([put, del]);
      expect(p.status).toBe(200);
      expect(d.status).toBe(200);
      const model = (await call('GET', `/2.0/listeners/${id}`)).status === 200;
      const listed = ((await call('GET', '/1.0/listeners')).body as { uuid: string }[]).some((l) => l.uuid === id);
      const config = existsSync(t.paths.lvsConfig(id));
      const unit = t.init.installed.has(`octavia-keepalivedlvs-${id}`);
      const inState = id in t.state.current.lvsListeners;
      // one of the two consistent ends, never a mix
      expect({ round, model, listed, config, unit, inState }).toEqual({ round, model: model, listed: model, config: model, unit: model, inState: model });
      if (model) {
        outcomes.kept++;
        await call('DELETE', `/1.0/listeners/${id}`);
      } else outcomes.gone++;
      // nothing holds the VIP and port: another listener may take them
      const other = await call('PUT', `/2.0/listeners/${OTHER}`, merge(udpListener(), {}));
      expect(other.status, JSON.stringify(other.body)).toBe(200);
      expect((await call('DELETE', `/1.0/listeners/${OTHER}`)).status).toBe(200);
    }
    // the rounds covered both orders
    expect(outcomes.kept).toBeGreaterThan(0);
    expect(outcomes.gone).toBeGreaterThan(0);
  });

  it('DELETE /1.0/listeners/<load balancer> takes the models of its haproxy listeners with it: the port is free again', async () => {
    const tcp = merge(udpListener(), { protocol: 'TCP', default_pool: { health_monitor: { type: 'TCP' } } });
    const id = listenerId(900);
    expect((await call('PUT', `/2.0/listeners/${id}`, tcp)).status).toBe(200);
    expect((await call('DELETE', `/1.0/listeners/${LB}`)).status).toBe(200);
    expect((await call('GET', `/2.0/listeners/${id}`)).status).toBe(404);
    expect(existsSync(t.paths.haproxyConfig(LB as Uuid))).toBe(false);
    const other = await call('PUT', `/2.0/listeners/${OTHER}`, tcp);
    expect(other.status, JSON.stringify(other.body)).toBe(200);
    expect((await call('DELETE', `/1.0/listeners/${OTHER}`)).status).toBe(200);
  });
});
