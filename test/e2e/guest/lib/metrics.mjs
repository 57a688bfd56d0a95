/**
 * @module test/e2e/guest/lib/metrics
 * Agent A's Prometheus metrics as a scraper sees them (GET http://127.0.0.1:9447/metrics, plain
 * HTTP on loopback as run.mjs configures it), parsed from the text exposition format into
 * series, and the value of one series picked by name and labels.
 */

/** One `name{labels} value` line; comments and blank lines are left out. */
function parseLine(line) {
  const m = /^([A-Za-z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
  if (!m || line.startsWith('#')) return null;
  const labels = {};
  for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
  return { name: m[1], labels, value: Number(m[3]) };
}

/** Every series of one scrape. Throws unless the answer is 200. */
export async function scrape(url = 'http://127.0.0.1:9447/metrics') {
  // a bound, not a time limit: the agent answered in over 30 s with the guest's CPU hogged and the
  // host at a load of 20 (run.mjs --hog; each scrape runs ipvsadm, a slow exec under UML)
  const r = await fetch(url, { signal: AbortSignal.timeout(120_000) });
  const text = await r.text();
  if (r.status !== 200) throw new Error(`GET ${url}: ${r.status} ${text.slice(0, 200)}`);
  return text.split('\n').map(parseLine).filter(Boolean);
}

/** The value of the one series named `name` whose labels include `labels`; undefined if none, an error if several. */
export function value(series, name, labels = {}) {
  const hits = series.filter((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === String(v)));
  if (hits.length > 1) throw new Error(`${hits.length} series ${name} ${JSON.stringify(labels)}`);
  return hits[0]?.value;
}

/** The series named `name` whose labels include `labels`. */
export const seriesOf = (series, name, labels = {}) => series.filter((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === String(v)));
