/**
 * @module test/reliability/support/figures
 * The figures a reliability test measured (requests sent, kills, torn files, ...), appended as one
 * JSON line to the file named by RELIABILITY_FIGURES_FILE, which test/reliability/run.mjs sets
 * and merges with vitest's pass/fail per file into the RELIABILITY-REPORT line. Run alone (no
 * such variable), the figures go to stderr so that they are still seen.
 */
import { appendFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIGURES_ENV = 'RELIABILITY_FIGURES_FILE';

export type Figures = Readonly<Record<string, number | string | boolean | readonly (number | string)[]>>;

/**
 * Records `figures` for `section` ('fuzz', 'kill', 'concurrency', 'floods', or a fault's file
 * name). `from` is the test file's import.meta.url, so the report can tie figures to a file.
 */
export function recordFigures(section: string, from: string, figures: Figures): void {
  const file = relative(fileURLToPath(new URL('../../..', import.meta.url)), fileURLToPath(from));
  const line = `${JSON.stringify({ section, file, figures })}\n`;
  const target = process.env[FIGURES_ENV];
  if (target) appendFileSync(target, line);
  else process.stderr.write(`FIGURES ${line}`);
}
