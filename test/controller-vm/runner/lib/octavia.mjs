/**
 * @module test/controller-vm/runner/lib/octavia
 * Octavia's API as a user calls it (noauth: every request is admin, the project id goes in the
 * body), provisioning and operating status waits, and the harness's database for what the API
 * does not show (the amphora health rows the health manager keeps).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { STATE, log, sleep } from './context.mjs';

const API = 'http://127.0.0.1:9876';
export const PROJECT = '33333333-0000-0000-0000-000000000001';
export const VIP_SUBNET = '22222222-0000-0000-0000-000000000001';
const PATHS = { loadbalancer: 'loadbalancers', listener: 'listeners', pool: 'pools', healthmonitor: 'healthmonitors', flavorprofile: 'flavorprofiles', flavor: 'flavors' };

export async function api(method, path, body) {
  const res = await fetch(API + path, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // an empty 204 or an error page
  }
  return { status: res.status, json, text };
}

/**
 * A change that Octavia may refuse with 409 "immutable" for a moment: an object reads ACTIVE a
 * little before its load balancer leaves PENDING_UPDATE. Asked again for up to 120 s.
 */
async function mutate(method, path, body, ok) {
  const t = Date.now();
  for (;;) {
    const r = await api(method, path, body);
    if (ok.includes(r.status)) return r;
    if (r.status !== 409 || !/immutable/.test(r.text) || Date.now() - t > 120_000) throw new Error(`${method} ${path}: ${r.status} ${r.text.slice(0, 300)}`);
    await sleep(1000);
  }
}
/** POST of one object; returns it (throws with Octavia's answer on anything but 201). */
export async function create(kind, body, path = `/v2/lbaas/${PATHS[kind]}`) {
  return (await mutate('POST', path, { [kind]: body }, [201])).json[kind];
}
export async function update(path, kind, body) {
  return (await mutate('PUT', path, { [kind]: body }, [200, 202])).json?.[kind];
}

/** Waits for provisioning_status `want` (DELETED: a 404); returns seconds, throws on ERROR or the limit. */
export async function waitProv(path, key, want = 'ACTIVE', limitSec = 300) {
  const t = Date.now();
  let last = '';
  for (;;) {
    const r = await api('GET', path);
    last = r.status === 404 ? 'DELETED' : r.json?.[key]?.provisioning_status;
    if (last === want) return (Date.now() - t) / 1000;
    if (last === 'ERROR') throw new Error(`${path} went to ERROR`);
    if (Date.now() - t > limitSec * 1000) throw new Error(`${path}: still ${last} after ${limitSec} s (wanted ${want})`);
    await sleep(300);
  }
}
/** Waits for operating_status `want`; returns seconds or null after the limit. */
export async function waitOper(path, key, want, limitSec = 90) {
  const t = Date.now();
  for (;;) {
    const r = await api('GET', path);
    if (r.json?.[key]?.operating_status === want) return (Date.now() - t) / 1000;
    if (Date.now() - t > limitSec * 1000) return null;
    await sleep(500);
  }
}
export const operating = async (path, key) => (await api('GET', path)).json?.[key]?.operating_status ?? null;

export async function amphorae(lbId) {
  const r = await api('GET', `/v2/octavia/amphorae?loadbalancer_id=${lbId}`);
  return (r.json?.amphorae ?? []).filter((a) => a.status !== 'DELETED');
}

/** Cascade delete; asks again while the API answers 409 (a failover holds the load balancer). */
export async function deleteLb(lbId, limitSec = 300) {
  const t = Date.now();
  for (;;) {
    const r = await api('DELETE', `/v2/lbaas/loadbalancers/${lbId}?cascade=true`);
    if (r.status === 204 || r.status === 404) break;
    if (r.status !== 409 || Date.now() - t > limitSec * 1000) throw new Error(`DELETE load balancer: ${r.status} ${r.text.slice(0, 200)}`);
    log(`LB delete: 409 (${r.json?.faultstring ?? ''}), asking again`);
    await sleep(2000);
  }
  return waitProv(`/v2/lbaas/loadbalancers/${lbId}`, 'loadbalancer', 'DELETED', limitSec);
}

export function sql(query) {
  return execFileSync('mariadb', ['--no-defaults', '-S', join(STATE, 'run', 'mysql.sock'), '-uroot', '-N', '-B', 'octavia', '-e', query], { encoding: 'utf8' }).trim();
}
/** The last heartbeat the health manager counted for an amphora (ms since the epoch), or null. */
export function lastHeartbeat(ampId) {
  if (!/^[0-9a-f-]{36}$/.test(ampId)) throw new Error(`not an amphora id: ${ampId}`);
  const v = sql(`SET time_zone='+00:00'; SELECT UNIX_TIMESTAMP(last_update) FROM amphora_health WHERE amphora_id='${ampId}'`);
  return v && v !== 'NULL' ? Math.round(Number(v) * 1000) : null;
}
