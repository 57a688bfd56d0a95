/**
 * @module bench/lib/stats
 * Rounding, and the summary of a list of timing samples (median, percentiles, mean).
 */

export function round(x, digits) {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** median / p90 / p99 / mean of samples in ms, the way octavia-client.py's timed() computes them. */
export function latencyStats(samples) {
  if (samples.length === 0) return null;
  const v = [...samples].sort((a, b) => a - b);
  const at = (q) => v[Math.min(v.length - 1, Math.round(q * (v.length - 1)))];
  const mid = v.length / 2;
  const median = v.length % 2 ? v[Math.floor(mid)] : (v[mid - 1] + v[mid]) / 2;
  return {
    n: v.length,
    median_ms: round(median, 3),
    p90_ms: round(at(0.9), 3),
    p99_ms: round(at(0.99), 3),
    min_ms: round(v[0], 3),
    max_ms: round(v[v.length - 1], 3),
    mean_ms: round(v.reduce((a, b) => a + b, 0) / v.length, 3),
  };
}
