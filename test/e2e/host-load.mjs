/**
 * @module test/e2e/host-load
 * The VM tier's load option (run.mjs --hog guest,host): CPU hogs on this machine, one
 * nice-less busy shell loop per core, and the load figures of a run. An amphora whose vCPU is
 * busy and a CI machine whose cores are shared are what the tier must hold under (issue 14
 * item 12), so both can be made on purpose instead of happening by chance. The guest's hog is
 * started by the runner (guest/lib/load.mjs); this module only parses the option for it.
 * Figures: this machine's 1-minute load before the boot, every few seconds while the guest
 * runs (mean and max) and at the end, with the number of hogs.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

const WHERE = ['guest', 'host'];

/** `--hog guest,host` -> {guest, host}; an unknown word is an error message. */
export function parseHog(text) {
  const words = (text ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const bad = words.filter((w) => !WHERE.includes(w));
  if (bad.length > 0) return { error: `--hog takes ${WHERE.join(', ')}; not ${bad.join(', ')}` };
  return { guest: words.includes('guest'), host: words.includes('host') };
}

/** The three load averages of this machine (1, 5, 15 minutes). */
export function loadavg() {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
}

/**
 * Starts `n` busy loops (default: one per core) in their own process group, and samples the
 * 1-minute load every `everyMs` until stop(). stop() kills the group and returns the figures.
 */
export function startHostLoad({ hogs, everyMs = 5000 }) {
  const before = loadavg();
  const n = hogs ? availableParallelism() : 0;
  // One sh holding n background loops: a single process group to kill, no shell built from input.
  const group = n > 0
    ? spawn('/bin/sh', ['-c', `for i in $(seq ${n}); do (while :; do :; done) & done; wait`], { detached: true, stdio: 'ignore' })
    : null;
  const samples = [];
  const timer = setInterval(() => samples.push(loadavg()[0]), everyMs);
  return {
    stop() {
      clearInterval(timer);
      if (group) {
        try {
          process.kill(-group.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      const ones = samples.length > 0 ? samples : [loadavg()[0]];
      return {
        hogs: n,
        cores: availableParallelism(),
        load_before: before,
        load_1m_during_mean: Math.round((ones.reduce((a, b) => a + b, 0) / ones.length) * 100) / 100,
        load_1m_during_max: Math.max(...ones),
        load_after: loadavg(),
        samples: ones.length,
      };
    },
  };
}
