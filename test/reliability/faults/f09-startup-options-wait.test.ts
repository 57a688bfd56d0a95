/**
 * Issue 14, item 9: options that wait for a restart must not change behaviour, validation
 * included, before it. `keepalived_cmd` (and `haproxy_cmd`) changed validation at once while the
 * running daemons kept the binary they were started from, and PUT /1.0/config compared each file
 * with the previous file, not with what the agent started from: a file sent twice named no pending
 * option the second time, and a file going back to the running values named one. Now the daemon
 * binaries are startup options (validation, units and version discovery keep the startup binary),
 * the answer names what differs from the running start, and what the agent applies keeps every
 * startup option's startup value. In process, with the fake process runner: what is checked is
 * which binary the agent runs, which the runner records.
 */
import { readFileSync } from 'node:fs';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import type { Uuid } from '../../../src/model/uuid.js';
import { apiApp } from '../../support/api-app.js';

const AMP = '11111111-2222-3333-4444-555555555555';
const L = 'ffffffff-0000-0000-0000-0000000000c9' as Uuid;
const LB = 'aaaaaaaa-0000-4000-8000-0000000000c9' as Uuid;

describe('f09: options that wait for a restart do not change behaviour before it', () => {
  it('keepalived_cmd and haproxy_cmd are named pending, and validation and units keep the startup binaries', async () => {
    const { app, configFile, runner, specs, agentConfig } = await apiApp();
    const next = readFileSync(configFile, 'utf8')
      .replace('[amphora_agent]\n', '[amphora_agent]\nkeepalived_cmd = /opt/keepalived\n')
      .replace('[haproxy_amphora]\n', '[haproxy_amphora]\nhaproxy_cmd = /opt/haproxy\n');
    const res = await request(app).put('/1.0/config').send(next).expect(202);
    expect(res.body.details).toBe('takes effect at the next restart: haproxy_amphora.haproxy_cmd, amphora_agent.keepalived_cmd');

    await request(app).put(`/1.0/listeners/${AMP}/${L}/udp_listener`).send('net_namespace amphora-haproxy\n').expect(200);
    await request(app).put(`/1.0/loadbalancer/${AMP}/${LB}/haproxy`).send('global\n    daemon\n\ndefaults\n    mode tcp\n').expect(202);
    const validators = runner.calls.filter((c) => c[1] === '--config-test' || c[1] === '-c').map((c) => c[0]);
    expect(validators).toEqual(['/usr/sbin/keepalived', '/usr/sbin/haproxy']);
    expect(specs.lvs(L).argv).toContain('/usr/sbin/keepalived');
    expect(specs.haproxy(LB, null).argv).toContain('/usr/sbin/haproxy');
    expect(agentConfig.current.amphora_agent.keepalived_cmd).toBe('/usr/sbin/keepalived');
  });

  it('names a pending option again when the same file is sent again, and none once the file is back to the running values', async () => {
    const { app, configFile, agentConfig } = await apiApp();
    const started = readFileSync(configFile, 'utf8');
    const moved = `${started}[haproxy_amphora]\nbind_port = 19999\n`;
    const pending = { message: 'OK', details: 'takes effect at the next restart: haproxy_amphora.bind_port' };
    expect((await request(app).put('/1.0/config').send(moved).expect(202)).body).toEqual(pending);
    expect((await request(app).put('/1.0/config').send(moved).expect(202)).body).toEqual(pending);
    // the running agent still applies the port it listens on
    expect(agentConfig.current.haproxy_amphora.bind_port).toBe(9443);
    expect((await request(app).put('/1.0/config').send(started).expect(202)).body).toEqual({ message: 'OK' });
  });
});
