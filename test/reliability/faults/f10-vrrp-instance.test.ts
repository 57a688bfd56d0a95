/**
 * Fault 10 (d) of issue 14: a VRRP upload with no `vrrp_instance` was accepted, and the
 * keepalived it would run announces nothing: the amphora never takes its VIPs. Over the
 * in-process API (test/support/api-app: real files, fake runner and init), such an upload is a
 * 400 before anything is written, a previously installed VRRP config stays byte-identical, and
 * the VRRP keepalived is as before. The same holds for a VRRP config that names another network
 * namespace (fault 7's rule, for the VRRP keepalived too).
 */
import { existsSync, readFileSync } from 'node:fs';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { apiApp } from '../../support/api-app.js';

const VRRP = 'vrrp_script check_script {\n    script /var/lib/octavia/vrrp/check_script.sh\n}\nvrrp_instance a {\n    interface eth1\n}\n';
const NO_INSTANCE = 'vrrp_script check_script {\n    script /var/lib/octavia/vrrp/check_script.sh\n}\n# vrrp_instance a {\n';

describe('f10: a VRRP upload without vrrp_instance', () => {
  it('is refused with 400 and nothing is written', async () => {
    const t = await apiApp();
    const res = await request(t.app).put('/1.0/vrrp/upload').send(NO_INSTANCE).expect(400);
    expect(res.body).toMatchObject({ message: 'Invalid request', details: 'the VRRP config has no vrrp_instance' });
    expect(existsSync(t.paths.vrrpConfig)).toBe(false);
    expect(t.init.calls).toEqual([]);
    expect(t.state.current.vrrp).toBeNull();
    await request(t.app).put('/1.0/vrrp/start').expect(404);
  });

  it('leaves an installed VRRP config and its keepalived as they were', async () => {
    const t = await apiApp();
    await request(t.app).put('/1.0/vrrp/upload').send(VRRP).expect(200);
    await request(t.app).put('/1.0/vrrp/start').expect(202);
    const calls = t.init.calls.length;
    for (const body of [NO_INSTANCE, `net_namespace elsewhere\n${VRRP}`]) {
      await request(t.app).put('/1.0/vrrp/upload').send(body).expect(400);
      expect(readFileSync(t.paths.vrrpConfig, 'utf8')).toBe(VRRP);
    }
    expect(t.init.calls.length).toBe(calls);
  });
});
