/**
 * @module bench/lib/cleanup
 * Undo steps of a run, and temp dirs that remove themselves at cleanup (unless kept).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { log } from './log.mjs';

/**
 * Undo steps, run last-registered first. Every step runs even if an earlier one fails. The
 * normal exit path and a signal handler may both call runAll(); the steps still run once.
 */
export class Cleanup {
  #steps = [];
  #running;

  add(label, fn) {
    this.#steps.push({ label, fn });
  }

  /** Every caller gets the same promise, so a second caller waits for the first run. */
  runAll() {
    this.#running ??= (async () => {
      for (const { label, fn } of this.#steps.reverse()) {
        try {
          await fn();
        } catch (err) {
          log(`cleanup "${label}" failed: ${err?.message ?? err}`);
        }
      }
    })();
    return this.#running;
  }
}

/** A fresh temp dir, removed at cleanup unless BENCH_KEEP is set or something asks to keep it. */
export async function makeTempDir(cleanup, prefix = 'amphora-bench.') {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const handle = { dir, keep: Boolean(process.env.BENCH_KEEP), keepReason: 'BENCH_KEEP is set' };
  cleanup.add(`remove ${dir}`, async () => {
    if (handle.keep) {
      log(`keeping ${dir} (${handle.keepReason})`);
      return;
    }
    await rm(dir, { recursive: true, force: true });
  });
  return handle;
}
