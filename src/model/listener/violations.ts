/**
 * @module model/listener/violations
 * A rule violation names the JSON path of the offending value (`$.default_pool.members[1].address`)
 * and says what is wrong. Every violation of a request is reported at once, in one 400
 * (`ModelRejected`, model/errors.ts).
 */
export type { Violation } from '../errors.js';

/** `['default_pool', 'members', 1, 'address']` → `$.default_pool.members[1].address` */
export function jsonPath(parts: readonly PropertyKey[]): string {
  return parts.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : `${acc}.${String(p)}`), '$');
}
