/**
 * A closing line in the plain form CI reads: `Tests: N passed, N failed, N skipped`, and before it
 * one `FAILED: <file> > <test>: <first line of the error>` line per failed test (at most 20), which
 * test/run-tiers.mjs repeats at the end of `npm test`: CI shows only the tail of a long run.
 */
import { relative } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

const MAX_FAILED_LINES = 20;
const firstLine = (s: string | undefined) => (s ?? '').split('\n').find((l) => l.trim() !== '')?.trim().slice(0, 300) ?? '';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    const failed: string[] = [];
    for (const module of modules) {
      const file = relative(process.cwd(), module.moduleId);
      for (const test of module.children.allTests()) {
        const result = test.result();
        if (result.state === 'passed') counts.passed++;
        else if (result.state === 'failed') {
          counts.failed++;
          failed.push(`${file} > ${test.fullName}: ${firstLine(result.errors?.[0]?.message)}`);
        } else counts.skipped++;
      }
      if (module.state() === 'failed' && [...module.children.allTests()].length === 0) {
        counts.failed++;
        failed.push(`${file}: ${firstLine(module.errors()[0]?.message) || 'failed to load'}`);
      }
    }
    for (const line of failed.slice(0, MAX_FAILED_LINES)) process.stdout.write(`FAILED: ${line}\n`);
    if (failed.length > MAX_FAILED_LINES) process.stdout.write(`FAILED: … and ${failed.length - MAX_FAILED_LINES} more\n`);
    process.stdout.write(`\nTests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`);
  }
}
