/**
 * A closing line in the plain form CI reads: `Tests: N passed, N failed, N skipped`, and before it
 * one `FAILED: <what>: <first line of the error>` line per failure (at most 20), which
 * test/run-tiers.mjs repeats at the end of `npm test`: CI shows only the tail of a long run.
 *
 * A failure is a failed test, a file whose hooks failed (beforeAll/afterAll: its tests may all have
 * passed, and vitest still exits 1), or an error no test owned (an unhandled rejection, an error in
 * a worker): vitest counts the last two in its exit status but not in its test counts.
 */
import { relative } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

const MAX_FAILED_LINES = 20;
type ErrorLike = { name?: string; message?: string; stack?: string };
const firstLine = (s: string | undefined) => (s ?? '').split('\n').find((l) => l.trim() !== '')?.trim().slice(0, 300) ?? '';
const describe = (e: ErrorLike | undefined) => firstLine(e?.message) || firstLine(e?.stack) || e?.name || '';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<ErrorLike> = [], reason?: string): void {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    const failed: string[] = [];
    for (const module of modules) {
      const file = relative(process.cwd(), module.moduleId);
      let testsFailed = 0;
      for (const test of module.children.allTests()) {
        const result = test.result();
        if (result.state === 'passed') counts.passed++;
        else if (result.state === 'failed') {
          counts.failed++;
          testsFailed++;
          failed.push(`${file} > ${test.fullName}: ${describe(result.errors?.[0])}`);
        } else counts.skipped++;
      }
      // the file's own errors: it failed to load, or a hook outside any test failed
      if (module.state() === 'failed' && testsFailed === 0) {
        counts.failed++;
        const errors = module.errors();
        failed.push(`${file}: ${errors.map((e) => describe(e)).filter(Boolean).join(' | ') || 'failed (no test failed: a hook or the file itself)'}`);
      }
    }
    for (const e of unhandledErrors) failed.push(`unhandled error: ${describe(e) || 'no message'}`);
    if (reason && reason !== 'passed' && reason !== 'failed') failed.push(`run ended: ${reason}`);
    for (const line of failed.slice(0, MAX_FAILED_LINES)) process.stdout.write(`FAILED: ${line}\n`);
    if (failed.length > MAX_FAILED_LINES) process.stdout.write(`FAILED: … and ${failed.length - MAX_FAILED_LINES} more\n`);
    process.stdout.write(`\nTests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`);
  }
}
