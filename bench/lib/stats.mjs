/**
 * @module bench/lib/stats
 * Rounding, the summary of a list of timing samples (median, percentiles, mean), and the
 * least-squares slope the scale suites give as a cost per listener.
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

/** Least-squares slope of y over x. */
export function slope(points) {
  const pts = points.filter(([, y]) => typeof y === 'number');
  if (pts.length < 2) return null;
  const mx = pts.reduce((a, [x]) => a + x, 0) / pts.length;
  const my = pts.reduce((a, [, y]) => a + y, 0) / pts.length;
  const sxx = pts.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  return sxx === 0 ? null : pts.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0) / sxx;
}
