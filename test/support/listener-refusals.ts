/**
 * @module test/support/listener-refusals
 * What the API 2.0 rule tests expect of a listener PUT to listener L1 of an `apiApp`: a refusal
 * (400 with the violations, their JSON paths and messages, and nothing installed: no config
 * file, no unit, no keepalived call) or an acceptance by POST …/validate. Also the JSON paths
 * and rule messages more than one of those tests name. It builds no listener (that is
 * test/support/listener-variants.ts).
 */
import { existsSync } from 'node:fs';
import request from 'supertest';
import { expect } from 'vitest';
import type { Violation } from '../../src/model/listener/violations.js';
import type { Uuid } from '../../src/model/uuid.js';
import type { apiApp } from './api-app.js';

export const L1 = 'eeeeeeee-0000-0000-0000-000000000011' as Uuid;
export type App = Awaited<ReturnType<typeof apiApp>>;

export const HM_AT = '$.default_pool.health_monitor';
export const SP_AT = '$.default_pool.session_persistence';
export const MEMBERS_AT = '$.default_pool.members';

export const one = (path: string, message: string): Violation[] => [{ path, message }];

/** PUTs `body` as listener L1, expects a 400 that installed nothing, and returns its violations. */
export async function refused(t: App, body: unknown): Promise<Violation[]> {
  const res = await request(t.app).put(`/2.0/listeners/${L1}`).send(JSON.stringify(body)).expect(400);
  expect(res.body).toMatchObject({ code: 'invalid_input', message: 'Invalid listener' });
  // `details` repeats the violations one per line for plain clients
  expect(res.body.details).toBe((res.body.violations as Violation[]).map((v) => `${v.path}: ${v.message}`).join('\n'));
  await expectNothingInstalled(t);
  return res.body.violations as Violation[];
}

export async function expectNothingInstalled(t: App): Promise<void> {
  expect(existsSync(t.paths.lvsConfig(L1))).toBe(false);
  expect(t.init.calls).toEqual([]);
  // refused before rendering: keepalived was never asked
  expect(t.runner.calls.some((c) => c.includes('--config-test'))).toBe(false);
  await request(t.app).get(`/2.0/listeners/${L1}`).expect(404);
}

export const accepted = async (t: App, body: unknown) => request(t.app).post(`/2.0/listeners/${L1}/validate`).send(JSON.stringify(body)).expect(200);

export const NETMASK = 'must be a netmask for every VIP: a contiguous dotted mask for IPv4 (255.255.255.0), a prefix length 1-128 for IPv6';
export const URL_PATH = 'must start with / and hold only letters, digits and ._~%/:@=+,;&?-';
export const EXPECTED_CODES = 'must be a code (200), a list (200,202) or a range (200-204) of codes 100-599';
export const COOKIE = 'must be 1-64 letters, digits, _ or -';
