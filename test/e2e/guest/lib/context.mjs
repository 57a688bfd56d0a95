/**
 * @module test/e2e/guest/lib/context
 * The runner's environment, as e2e-runner.service passes it (e2e.env, written by run.mjs): the
 * work directory shared with the host, the repository, node and python, the scenarios asked
 * for; and the runner's log (stdout, i.e. the journal and the console, and logs/runner.log).
 * Creates the logs directory when first imported; owns no other state.
 */
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const env = process.env;
export const WORK = env.E2E_WORK ?? '/mnt/e2e';
export const REPO = env.REPO;
export const NODE = env.NODE ?? process.execPath;
export const GUEST = join(REPO, 'test', 'e2e', 'guest');
export const LOGS = join(WORK, 'logs');
export const WANTED = (env.E2E_SCENARIOS ?? '').split(',').filter(Boolean);
export const PY = '/usr/bin/python3';
// On an image's root (run.mjs --rootfs): where the host's root is (vm/init.sh) and the work
// directory's path there; the controller runs with the host's Python (guest/host-python.sh).
export const HOST_ROOT = env.E2E_ROOTFS ? '/host' : '';
export const HOST_WORK = env.E2E_HOST_WORK ?? WORK;
export const T0 = performance.now();
export const uptime = () => Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
export const secs = (ms) => Math.round(ms / 10) / 100;
mkdirSync(LOGS, { recursive: true });
const RUNLOG = join(LOGS, 'runner.log');
export function log(msg) {
  const line = `[runner ${uptime().toFixed(1)}] ${msg}`;
  process.stdout.write(`${line}\n`);
  appendFileSync(RUNLOG, `${line}\n`);
}
