/**
 * @module test/e2e/guest/lib/results
 * The run's results ($E2E_WORK/results.json, read by run.mjs for the E2E-REPORT line) and how a
 * scenario records into them: `s.check(cond, msg)` a failure, `s.fig(key, value)` a figure,
 * `s.notDone = reason` a scenario impossible here. The file is rewritten after every scenario.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WORK, log, secs } from './context.mjs';

export const results = { ok: true, guest: {}, scenarios: {} };
export function saveResults() {
  writeFileSync(join(WORK, 'results.json'), `${JSON.stringify(results, null, 1)}\n`);
}

class Scenario {
  constructor(name) {
    this.name = name;
    this.figures = {};
    this.failures = [];
    this.checks = 0;
    this.notDone = null;
  }
  check(cond, msg) {
    this.checks += 1;
    if (!cond) {
      this.failures.push(msg);
      log(`  FAIL ${msg}`);
    }
    return Boolean(cond);
  }
  fig(key, value) {
    this.figures[key] = value;
    log(`  ${key} = ${JSON.stringify(value)}`);
  }
}

export async function runScenario(name, fn) {
  const s = new Scenario(name);
  const start = performance.now();
  log(`=== scenario ${name}`);
  try {
    await fn(s);
  } catch (err) {
    s.failures.push(`aborted: ${err.message}`);
    log(`  ABORTED ${err.stack}`);
  }
  const status = s.notDone ? 'not_done' : s.failures.length ? 'failed' : 'passed';
  results.scenarios[name] = { status, seconds: secs(performance.now() - start), checks: s.checks, ...(s.notDone ? { reason: s.notDone } : {}), ...(s.failures.length ? { failures: s.failures } : {}), figures: s.figures };
  if (status === 'failed') results.ok = false;
  log(`=== ${name}: ${status} in ${results.scenarios[name].seconds}s`);
  saveResults();
  return status;
}
