/**
 * API 1.0 load balancer certificates: PUT, GET (md5sum) and DELETE of the files a haproxy config
 * names, with the anchored name rule.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import type { Uuid } from '../../src/model/uuid.js';
import { apiApp } from '../support/api-app.js';

const LB = 'aaaaaaaa-0000-4000-8000-000000000001' as Uuid;
const LISTENER_PEM = 'eeeeeeee-0000-4000-8000-000000000002.pem';
const SHA1_PEM = 'da39a3ee5e6b4b0d3255bfef95601890afd80709.pem';
const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n';
const md5 = (text: string) => createHash('md5').update(text).digest('hex');
const url = (name: string, lb: string = LB) => `/1.0/loadbalancer/${lb}/certificates/${name}`;

describe('PUT /1.0/loadbalancer/{lb}/certificates/{name}', () => {
  it('stores the file with mode 0600 and answers 200 with its MD5 as ETag', async () => {
    const t = await apiApp();
    for (const name of [LISTENER_PEM, SHA1_PEM]) {
      const res = await request(t.app).put(url(name)).send(PEM).expect(200);
      expect(res.body).toEqual({ message: 'OK' });
      expect(res.headers['etag']).toBe(md5(PEM));
      const file = t.paths.certFile(LB, name);
      expect(readFileSync(file, 'utf8')).toBe(PEM);
      expect(statSync(file).mode & 0o777).toBe(0o600);
    }
    expect(statSync(t.paths.certDir(LB)).mode & 0o777).toBe(0o700);
    // replaced whole, and no temporary file left beside it
    await request(t.app).put(url(SHA1_PEM)).send('other\n').expect(200);
    expect(readFileSync(t.paths.certFile(LB, SHA1_PEM), 'utf8')).toBe('other\n');
    expect(readdirSync(t.paths.certDir(LB)).sort()).toEqual([SHA1_PEM, LISTENER_PEM].sort());
  });

  it('refuses an empty file with 400 and writes nothing', async () => {
    const t = await apiApp();
    expect((await request(t.app).put(url(SHA1_PEM)).send('').expect(400)).body).toMatchObject({ message: 'Invalid request' });
    expect(existsSync(t.paths.certFile(LB, SHA1_PEM))).toBe(false);
  });
});

describe('GET /1.0/loadbalancer/{lb}/certificates/{name}', () => {
  it('answers the md5sum with the same ETag', async () => {
    const t = await apiApp();
    await request(t.app).put(url(LISTENER_PEM)).send(PEM).expect(200);
    const res = await request(t.app).get(url(LISTENER_PEM)).expect(200);
    expect(res.body).toEqual({ md5sum: md5(PEM) });
    expect(res.headers['etag']).toBe(md5(PEM));
    expect(res.headers['content-type']).toMatch(/^application\/json/);
  });

  it("answers 404 in the reference's words for a missing file", async () => {
    const t = await apiApp();
    const res = await request(t.app).get(url(SHA1_PEM)).expect(404);
    expect(res.body).toMatchObject({ message: 'Certificate Not Found', details: `No certificate with filename: ${SHA1_PEM}` });
  });
});

describe('DELETE /1.0/loadbalancer/{lb}/certificates/{name}', () => {
  it('removes the file; a missing one is 200 too', async () => {
    const t = await apiApp();
    await request(t.app).put(url(SHA1_PEM)).send(PEM).expect(200);
    expect((await request(t.app).delete(url(SHA1_PEM)).expect(200)).body).toEqual({ message: 'OK' });
    expect(existsSync(t.paths.certFile(LB, SHA1_PEM))).toBe(false);
    await request(t.app).get(url(SHA1_PEM)).expect(404);
    expect((await request(t.app).delete(url(SHA1_PEM)).expect(200)).body).toEqual({ message: 'OK' });
  });
});

describe('the certificate name rule', () => {
  // URL-encoded, so that the name reaches the route whole (Express decodes the parameter)
  const refused = ['..%2Fx.pem', '..%2F..%2Fetc%2Fpasswd.pem', '%2Fetc%2Fx.pem', '.pem', '..pem', '.hidden.pem', 'a..b.pem', 'x.pem.sh', 'x.PEM', 'xpem', 'x%20y.pem', 'x%0A.pem', 'x%5Cy.pem', '..'];

  it('answers 400 "Filename has wrong format" to every method, and writes nothing', async () => {
    const t = await apiApp();
    for (const name of refused) {
      for (const call of [request(t.app).put(url(name)).send(PEM), request(t.app).get(url(name)), request(t.app).delete(url(name))]) {
        const res = await call;
        expect(res.status, `${name}: ${res.text}`).toBe(400);
        expect(res.body).toMatchObject({ message: 'Filename has wrong format' });
      }
    }
    expect(existsSync(t.paths.certDir(LB))).toBe(false);
    // no file anywhere in the agent's root (traversal included)
    expect((readdirSync(t.root, { recursive: true }) as string[]).filter((f) => f.endsWith('.pem'))).toEqual([]);
  });

  it('refuses a load balancer id that is not a UUID', async () => {
    const t = await apiApp();
    const res = await request(t.app).put(url(SHA1_PEM, '..')).send(PEM);
    expect(res.status).toBe(400);
    expect(res.body.details).toMatch(/load balancer id must be a UUID/);
  });
});
