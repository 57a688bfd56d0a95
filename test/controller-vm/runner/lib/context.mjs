/**
 * @module test/controller-vm/runner/lib/context
 * The scenario runner's environment (set by run.mjs; the runner itself runs in the controller's
 * namespace, where octavia-api answers on 127.0.0.1): the harness state, the VM directories, the
 * client/member namespace, the agent kinds and scenarios asked for; and its log.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const env = process.env;
export const TIER = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const REPO = resolve(TIER, '..', '..');
export const STATE = env.CVM_STATE;
export const CVM_DIR = env.CVM_DIR;
export const NET_NS = env.CVM_NET_NS;
export const LOGS = env.CVM_LOGS;
/** Agent kind -> the scenarios to run with it, in order (run.mjs's plan). */
export const PLAN = JSON.parse(env.CVM_PLAN ?? '{}');
export const HEARTBEAT_TIMEOUT = Number(env.CVM_HEARTBEAT_TIMEOUT ?? 30);
export const NODE = process.execPath;
export const T0 = Date.now();
export const secs = (ms) => Math.round(ms / 100) / 10;
export const since = (t) => secs(Date.now() - t);
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
mkdirSync(LOGS, { recursive: true });
export function log(msg) {
  const line = `[runner ${((Date.now() - T0) / 1000).toFixed(1)}s] ${msg}`;
  process.stdout.write(`${line}\n`);
  appendFileSync(join(LOGS, 'runner.log'), `${line}\n`);
}

/** Polls `fn` every `everyMs` until it returns a truthy value (returned) or `limitMs` passes (null). */
export async function waitFor(fn, limitMs, everyMs = 500) {
  const end = Date.now() + limitMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) return null;
    await sleep(everyMs);
  }
}
