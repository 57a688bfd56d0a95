/**
 * @module bench/lib/knobs
 * The bench's knobs (BENCH_* environment variables, see bench/README.md) and the usage error
 * a bad one, or any other mistake in how the bench was invoked, becomes.
 */

/** A mistake in how the bench was invoked (bad knob, not root): reported without a stack, exit 2. */
export class UsageError extends Error {}

/** A positive integer from the environment, or the default; anything else is a usage error. */
export function envInt(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return value;
}

export function envNumber(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new UsageError(`${name} must be a non-negative number, got ${JSON.stringify(raw)}`);
  return value;
}
