#!/usr/bin/env node
/**
 * `npm run test:reliability`: the reliability tier (test/reliability, its own vitest config), then
 * one line a CI job or a person can read at a glance, printed last:
 *
 *   RELIABILITY-REPORT {"ok":…,"seconds":…,"sections":{"fuzz":{…},"kill-during-write":{…},
 *                       "concurrency":{…},"floods":{…},"faults":{…}}}
 *
 * Each section has vitest's counts for its files (passed, failed, skipped tests) and the figures
 * its tests measured (test/reliability/support/figures.ts appends them to the file named by
 * RELIABILITY_FIGURES_FILE, set here). When a section records several lines, numbers under the
 * same key are added and anything else keeps the last value. `faults` also lists each regression
 * file and which of the items 1-11 have none yet. ok: vitest passed, no test failed, each
 * of the four suite sections ran at least one test, and every fault item has its regression file.
 *
 * usage: node test/reliability/run.mjs [extra vitest args, e.g. a file filter]
 *        (expects dist/ built: `npm run test:reliability` builds first)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SUITE = ['fuzz', 'kill-during-write', 'concurrency', 'floods'];
const FAULT_ITEMS = Array.from({ length: 11 }, (_, i) => i + 1);
const t0 = Date.now();

const work = mkdtempSync(join(tmpdir(), 'reliability-report-'));
const figuresFile = join(work, 'figures.jsonl');
const resultsFile = join(work, 'vitest.json');
// one test PKI for every file of the run (gen-certs.sh is slow; see support/suite-agent.ts)
const pkiDir = join(work, 'pki');

function vitest(args) {
  const argv = ['vitest', 'run', '--config', 'test/reliability/vitest.config.ts',
    '--reporter=default', '--reporter=./test/support/summary-reporter.ts', '--reporter=json', `--outputFile.json=${resultsFile}`, ...args];
  return new Promise((res) => {
    const child = spawn('npx', argv, { cwd: REPO, stdio: 'inherit', env: { RELIABILITY_PKI_DIR: pkiDir, ...process.env, RELIABILITY_FIGURES_FILE: figuresFile } });
    child.on('close', (code) => res(code ?? 1));
  });
}

/** 'test/reliability/faults/f04-x.test.ts' -> ['faults', 'f04-x']; 'test/reliability/fuzz.test.ts' -> ['fuzz']. */
function sectionOf(file) {
  const rel = relative(join(REPO, 'test/reliability'), resolve(REPO, file));
  const name = basename(rel).replace(/\.test\.ts$/, '');
  return rel.startsWith('faults/') ? ['faults', name] : [name];
}

function mergeFigures(into, figures) {
  for (const [k, v] of Object.entries(figures)) into[k] = typeof v === 'number' && typeof into[k] === 'number' ? into[k] + v : v;
  return into;
}

const counts = () => ({ passed: 0, failed: 0, skipped: 0 });

function readResults() {
  if (!existsSync(resultsFile)) return [];
  return JSON.parse(readFileSync(resultsFile, 'utf8')).testResults ?? [];
}

function buildSections(results) {
  const sections = Object.fromEntries(SUITE.map((s) => [s, { files: 0, ...counts(), figures: {} }]));
  sections.faults = { files: 0, ...counts(), cases: {} };
  for (const r of results) {
    const [section, fault] = sectionOf(r.name);
    const s = (sections[section] ??= { files: 0, ...counts(), figures: {} });
    s.files++;
    const target = fault ? (s.cases[fault] = { ...counts(), figures: {} }) : s;
    for (const a of r.assertionResults ?? []) {
      const key = a.status === 'passed' ? 'passed' : a.status === 'failed' ? 'failed' : 'skipped';
      target[key]++;
      if (fault) s[key]++;
    }
    // a file that failed to load has no tests: count it as a failure
    if (r.status === 'failed' && (r.assertionResults ?? []).every((a) => a.status !== 'failed')) {
      target.failed++;
      if (fault) s.failed++;
    }
  }
  const lines = existsSync(figuresFile) ? readFileSync(figuresFile, 'utf8').split('\n').filter(Boolean) : [];
  for (const line of lines) {
    const { section, file, figures } = JSON.parse(line);
    const [fileSection, fault] = sectionOf(file);
    if (fault) {
      const c = (sections.faults.cases[fault] ??= { ...counts(), figures: {} });
      mergeFigures(c.figures, figures);
    } else mergeFigures((sections[section] ??= { files: 0, ...counts(), figures: {} }).figures ?? {}, figures);
    void fileSection;
  }
  const covered = new Set(Object.keys(sections.faults.cases).map((n) => Number(/^f(\d\d)-/.exec(n)?.[1])));
  sections.faults.missing_items = FAULT_ITEMS.filter((i) => !covered.has(i));
  return sections;
}

const exit = await vitest(process.argv.slice(2));
const sections = buildSections(readResults());
const suiteRan = SUITE.every((s) => sections[s].passed > 0);
const noFailure = Object.values(sections).every((s) => s.failed === 0);
const ok = exit === 0 && suiteRan && noFailure && sections.faults.missing_items.length === 0;
rmSync(work, { recursive: true, force: true });
if (!ok) {
  // one line saying why, which test/run-tiers.mjs repeats at the end of `npm test`
  const why = [
    ...(exit !== 0 ? [`vitest exit ${exit}`] : []),
    ...SUITE.filter((s) => sections[s].passed === 0).map((s) => `${s}: no test passed`),
    ...Object.entries(sections).filter(([, s]) => s.failed > 0).map(([n, s]) => `${n}: ${s.failed} failed`),
    ...(sections.faults.missing_items.length ? [`fault items without a case: ${sections.faults.missing_items.join(', ')}`] : []),
  ];
  process.stdout.write(`FAIL reliability: ${why.join('; ')}\n`);
}
process.stdout.write(`RELIABILITY-REPORT ${JSON.stringify({ ok, seconds: Math.round((Date.now() - t0) / 100) / 10, vitest_exit: exit, sections })}\n`);
process.exit(ok ? 0 : 1);
