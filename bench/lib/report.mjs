/**
 * @module bench/lib/report
 * A suite's comparison (ratios ours / reference and the targets they must meet), the figures
 * it is missing, and its table for stdout.
 */
import { round } from './stats.mjs';

/**
 * ratio = ours / reference for every numeric figure both sides have (smaller is better), and
 * for each target { max_ratio, ratio, met }. A target whose figure is missing has met = null.
 */
export function compare(reference, ours, targets) {
  const ratios = {};
  for (const [key, ref] of Object.entries(reference)) {
    if (Array.isArray(ref)) continue; // raw samples (e.g. each startup): no ratio
    const mine = ours[key];
    ratios[key] = typeof ref === 'number' && typeof mine === 'number' && ref > 0 ? round(mine / ref, 4) : null;
  }
  const checked = {};
  for (const [key, max] of Object.entries(targets)) {
    const ratio = ratios[key] ?? null;
    checked[key] = { max_ratio: max, ratio, met: ratio === null ? null : ratio <= max };
  }
  return { ratios, targets: checked };
}

/** Names of figures that a suite requires but one side is missing. */
export function missingFigures(side, figures, required) {
  return required.filter((k) => figures[k] === null || figures[k] === undefined).map((k) => `${side}.${k}`);
}

const fmt = (v) => {
  if (v === null || v === undefined) return '—';
  if (Array.isArray(v)) return v.join(' ');
  if (typeof v === 'number') return Math.abs(v) >= 100 ? v.toFixed(1) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toFixed(3);
  return String(v);
};

/** A fixed-width table of one suite: figure, reference, ours, ratio, target. */
export function formatTable(name, suite) {
  const rows = [['figure', 'reference', 'ours', 'ratio', 'target']];
  for (const key of Object.keys(suite.reference)) {
    if (Array.isArray(suite.reference[key])) continue; // samples: shown below the table
    const t = suite.targets[key];
    const target = t ? `≤ ${t.max_ratio}  ${t.met === null ? 'n/a' : t.met ? 'met' : 'MISSED'}` : '';
    rows.push([key, fmt(suite.reference[key]), fmt(suite.ours[key]), fmt(suite.ratios[key]), target]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => (i === 0 || i === 4 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  const out = [`== suite ${name}: ${JSON.stringify(suite.params)}`, line(rows[0]), line(widths.map((w) => '-'.repeat(w)))];
  for (const r of rows.slice(1)) out.push(line(r));
  for (const key of Object.keys(suite.reference)) {
    if (Array.isArray(suite.reference[key]) || Array.isArray(suite.ours[key])) {
      out.push(`${key}: reference [${fmt(suite.reference[key])}]  ours [${fmt(suite.ours[key])}]`);
    }
  }
  for (const note of suite.notes ?? []) out.push(`note: ${note}`);
  return out.join('\n');
}
