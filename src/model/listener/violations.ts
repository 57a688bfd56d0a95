/**
 * @module model/listener/violations
 * A rule violation names the JSON path of the offending value (`$.default_pool.members[1].address`)
 * and says what is wrong. Every violation of a request is reported at once, in one 400.
 */
import { AgentError } from '../errors.js';

export interface Violation {
  readonly path: string;
  readonly message: string;
}

/** `['default_pool', 'members', 1, 'address']` → `$.default_pool.members[1].address` */
export function jsonPath(parts: readonly PropertyKey[]): string {
  return parts.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : `${acc}.${String(p)}`), '$');
}

/** 400 listing every violation; `details` repeats them as one line each for plain clients. */
export class ModelRejected extends AgentError {
  readonly violations: readonly Violation[];

  constructor(violations: readonly Violation[]) {
    super('invalid_input', 400, 'Invalid listener', violations.map((v) => `${v.path}: ${v.message}`).join('\n'));
    this.violations = violations;
  }
}
