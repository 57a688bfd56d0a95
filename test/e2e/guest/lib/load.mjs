/**
 * @module test/e2e/guest/lib/load
 * The guest's side of run.mjs --hog guest: one nice-less busy loop per guest CPU, started by the
 * runner before the first scenario and stopped at the end, so that keepalived's checker, the
 * agent and the traffic share a busy vCPU as on an amphora whose CPU another process keeps busy
 * (issue 14 item 12). Also reads the guest's load averages, which the runner records at the start
 * and end of every scenario, hog or not.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

export const HOG_WANTED = process.env.E2E_HOG_GUEST === '1';

/** The guest's 1-, 5- and 15-minute load averages. */
export function guestLoad() {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
}

/** Starts the hogs (one per CPU) in their own process group; stop() kills them. */
export function startGuestHog() {
  const n = availableParallelism();
  const group = spawn('/bin/sh', ['-c', `for i in $(seq ${n}); do (while :; do :; done) & done; wait`], { detached: true, stdio: 'ignore' });
  return {
    hogs: n,
    stop() {
      try {
        process.kill(-group.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    },
  };
}
