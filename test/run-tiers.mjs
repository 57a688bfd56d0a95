#!/usr/bin/env node
/**
 * `npm test`: every tier, in an order that fits .ci/run's 45 minutes on 2 cores.
 *
 *   1. typecheck, import lint, build (each needs the one before; a failure stops the run);
 *   2. two chains side by side:
 *        image:  build the amphora image (diskimage-builder) and boot it under qemu (test/image);
 *                then the VM tier on the image's root file system (test/e2e --rootfs); then the
 *                reliability tier (test/reliability: fuzz, kill -9, concurrency, floods, the
 *                issue-14 fault cases)
 *        host:   the vitest tiers, then the controller tier (Octavia's control plane, agents on the
 *                host), then the controller-VM tier (the same control plane, amphorae in UML VMs)
 *      The image build is mostly package downloads and installs, the controller tiers mostly wait
 *      for heartbeats and VMs: overlapping the chains saves about as long as the image chain takes.
 *      The controller tiers share Octavia's namespaces and services, so they stay in one chain; the
 *      controller-VM tier is the longest, so it starts as soon as the controller tier ends. Every
 *      tier has to hold on a busy machine anyway (issue 14 item 12).

 * A failed tier does not stop the later ones (their figures are worth having), but the exit status
 * is 1. CI shows only the tail of the run, so before the last line each failed tier's failure lines
 * (vitest's `FAILED:` lines from test/support/summary-reporter.ts, the other runners' `FAIL` lines)
 * are printed again, shortened. The last line is `TIERS {json}`: each tier's exit status and seconds.
 *
 * usage: node test/run-tiers.mjs   (what `npm test` runs; the tiers' own options are in their READMEs)
 */
import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { unpackRootfs } from './image/lib/rootfs.mjs';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const t0 = Date.now();
const since = (t) => Math.round((Date.now() - t) / 100) / 10;
const tiers = [];
/** Per tier, the lines that say what failed (repeated at the end; see finish). */
const failureLines = new Map();
// vitest's lines from summary-reporter.ts are preferred; other runners print `FAIL …`, maybe after a
// `[tier 12.3s]` stamp
const SUMMARY_FAILURE = /^FAILED: /;
const FAILURE_LINE = /^(\[[^\]]*\])?\s*FAIL\b/;
const MAX_DIGEST_LINES = 12;

/** Runs one tier; its lines are printed as they come, with a prefix when it runs beside another. */
function run(name, cmd, args, { prefix = '', onLine, env } = {}) {
  const t = Date.now();
  process.stdout.write(`\n== ${name}: ${[cmd, ...args].join(' ')}\n`);
  return new Promise((res) => {
    const child = spawn(cmd, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    for (const [stream, out] of [[child.stdout, process.stdout], [child.stderr, process.stderr]]) {
      let rest = '';
      stream.on('data', (chunk) => {
        const lines = (rest + chunk).split('\n');
        rest = lines.pop();
        for (const l of lines) {
          out.write(`${prefix}${l}\n`);
          onLine?.(l);
          const kind = SUMMARY_FAILURE.test(l) ? 'summary' : FAILURE_LINE.test(l) ? 'other' : null;
          if (kind) {
            const kept = failureLines.get(name) ?? { summary: [], other: [] };
            if (kept[kind].length < MAX_DIGEST_LINES) kept[kind].push(l.trim().slice(0, 400));
            failureLines.set(name, kept);
          }
        }
      });
      stream.on('end', () => rest && out.write(`${prefix}${rest}\n`));
    }
    child.on('close', (code, signal) => {
      const rc = code ?? 1;
      tiers.push({ tier: name, exit: rc, ...(signal ? { signal } : {}), seconds: since(t) });
      process.stdout.write(`== ${name}: exit ${rc}${signal ? ` (${signal})` : ''} after ${since(t)} s\n`);
      res(rc);
    });
  });
}

function finish() {
  const ok = tiers.every((t) => t.exit === 0);
  for (const t of tiers.filter((x) => x.exit !== 0)) {
    process.stdout.write(`\n== failed: ${t.tier} (exit ${t.exit})\n`);
    const kept = failureLines.get(t.tier);
    const lines = kept?.summary.length ? kept.summary : kept?.other.length ? kept.other : ["(no failure line: read the tier's output above)"];
    for (const l of lines) process.stdout.write(`  ${l}\n`);
  }
  process.stdout.write(`TIERS ${JSON.stringify({ ok, wall_seconds: since(t0), tiers })}\n`);
  process.exit(ok ? 0 : 1);
}

for (const [name, script] of [['typecheck', 'typecheck'], ['imports', 'lint:imports'], ['build', 'build']]) {
  if ((await run(name, 'npm', ['run', '--silent', script])) !== 0) finish();
}

let image = null;
const readImageReport = (l) => {
  if (l.startsWith('IMAGE-REPORT ')) image = JSON.parse(l.slice('IMAGE-REPORT '.length));
};

/**
 * The image's root unpacked for the VM tier, or null: then the tier runs on this machine's root
 * (the run has failed already if no image was built, but the tier's own result still says whether
 * the agent works). Also when the image's boot check failed: the VM tier says more.
 */
async function imageRootfs() {
  if (!image?.tar) return null;
  try {
    return await unpackRootfs(image.tar, (m) => process.stdout.write(`${m}\n`));
  } catch (err) {
    process.stdout.write(`cannot unpack ${image.tar}: ${err.message}\n`);
    tiers.push({ tier: 'image rootfs', exit: 1, seconds: 0 });
    return null;
  }
}

await Promise.all([
  (async () => {
    await run('image', process.execPath, ['test/image/run.mjs'], { prefix: '[image] ', onLine: readImageReport, env: { AMPHORA_DIST_BUILT: '1' } });
    const rootfs = await imageRootfs();
    await run('e2e', process.execPath, ['test/e2e/run.mjs', ...(rootfs ? ['--rootfs', rootfs] : [])], { prefix: '[e2e] ' });
    // a fuzz of 5,500 requests (a new seed each run): `npm run test:reliability` runs the issue's
    // 10,100 (about 300 s more of fuzz). Chosen when this chain was the longer one; with this
    // order it ends ~12 minutes before the host chain (1,378 s against 2,149 s on 2026-12-07), so
    // the full fuzz would fit: not tried in npm test yet
    await run('reliability', process.execPath, ['test/reliability/run.mjs'], {
      prefix: '[reliability] ',
      env: { RELIABILITY_FUZZ_ROUTE_RUNS: '5000', RELIABILITY_FUZZ_CONFIG_RUNS: '500' },
    });
  })(),
  (async () => {
    await run('host tiers', 'npx', ['vitest', 'run', '--config', 'test/vitest.config.ts']);
    await run('controller', process.execPath, ['test/controller/run.mjs']);
    await run('controller-vm', process.execPath, ['test/controller-vm/run.mjs']);
  })(),
]);
finish();
