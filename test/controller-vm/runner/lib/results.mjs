/**
 * @module test/controller-vm/runner/lib/results
 * One scenario's record for one agent kind: failed checks, figures, and its status
 * (passed, failed, or failed with the error that stopped it).
 */
import { log } from './context.mjs';

export class Scenario {
  constructor(name, kind) {
    Object.assign(this, { name, kind, failures: [], figures: {}, started: Date.now() });
  }
  check(cond, msg) {
    if (!cond) {
      this.failures.push(msg);
      log(`  FAIL ${msg}`);
    }
    return Boolean(cond);
  }
  fig(key, value) {
    this.figures[key] = value;
    log(`  ${key}: ${JSON.stringify(value)}`);
  }
  result(error) {
    if (error) this.failures.push(`stopped: ${error.message}`);
    return { status: this.failures.length === 0 ? 'passed' : 'failed', seconds: Math.round((Date.now() - this.started) / 100) / 10, failures: this.failures, figures: this.figures };
  }
}
