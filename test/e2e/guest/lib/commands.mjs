/**
 * @module test/e2e/guest/lib/commands
 * Running commands in the guest: `sh` (argv, a timeout, an error with the output unless
 * allowFail), the same in a network namespace, a shell script for plumbing, and a poller.
 */
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

// A bound against a hung command, not a time limit: with the guest's CPU hogged and the host at a
// load of 20 (run.mjs --hog) the network plumbing alone outlived 60 s.
export async function sh(file, args = [], { allowFail = false, timeout = 300_000 } = {}) {
  try {
    const r = await execFileP(file, args, { timeout, maxBuffer: 64 << 20 });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (e) {
    const res = { code: typeof e.code === 'number' ? e.code : -1, out: e.stdout ?? '', err: e.stderr ?? e.message };
    if (!allowFail) throw new Error(`${file} ${args.join(' ')} failed (${res.code}): ${res.err.trim() || res.out.trim()}`);
    return res;
  }
}
export const nsx = (ns, file, args, o) => sh('ip', ['netns', 'exec', ns, file, ...args], o);
/** Several shell lines at once (network plumbing): one process instead of dozens. */
export const shell = (script, o) => sh('/bin/sh', ['-ec', script], o);

export async function waitFor(pred, { timeoutMs, intervalMs = 200 }) {
  const start = performance.now();
  for (;;) {
    const v = await pred();
    if (v) return { ok: true, ms: performance.now() - start, value: v };
    if (performance.now() - start > timeoutMs) return { ok: false, ms: performance.now() - start };
    await sleep(intervalMs);
  }
}
