#!/usr/bin/env node
/**
 * @module test/image/run
 * `npm run test:image`: builds the amphora image with diskimage-builder (lib/build.mjs) and boots it
 * under qemu with the checks of lib/boot.mjs. The last line is
 *   IMAGE-REPORT {json}
 * with ok, skipped (+ reason), distribution, build_seconds {cold, warm}, cache, image_bytes,
 * rootfs_bytes, boot_to_agent_seconds, versions, checks, wall_seconds, and the paths of the built
 * qcow2 and tar.
 * Exit status: 0 when ok; 1 otherwise; 130 after SIGINT/SIGTERM; 0 with a SKIP line when this
 * machine cannot run the target (not root, no qemu-system-x86_64, qemu-img, genisoimage or xorriso),
 * 1 for a skip under CI=true.
 *
 * usage: node test/image/run.mjs [--release trixie] [--out DIR] [--force] [--twice] [--skip-build --qcow2 FILE]
 *                                [--smp 1|2] [--timeout SECONDS (900)] [--keep] [--verbose]
 *   --out DIR     where the build puts the image (default: lib/build.mjs's own, /var/tmp/amphora-agent-image/<release>/,
 *                 which it keeps between runs so an unchanged image is reused)
 *   --force       build even when the build would hand back an identical earlier image
 *   --twice       build a second time (forced: warm cache) and report both build times
 *   --skip-build  boot an image built before (--qcow2 FILE); build_seconds are then null
 *   --keep        keep the work dir (PKI, config drive, overlay, console log)
 *   env: AMPHORA_SHARED (the shared tools' parent; default ../shared beside the repository)
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isoTool } from './lib/config-drive.mjs';
import { bootAndCheck } from './lib/boot.mjs';

const { values: opts } = parseArgs({
  options: {
    release: { type: 'string', default: 'trixie' },
    twice: { type: 'boolean' },
    force: { type: 'boolean' },
    out: { type: 'string' },
    'skip-build': { type: 'boolean' },
    qcow2: { type: 'string' },
    smp: { type: 'string', default: '2' },
    timeout: { type: 'string', default: '900' },
    keep: { type: 'boolean' },
    verbose: { type: 'boolean' },
  },
});
const started = Date.now();
const say = (msg) => process.stdout.write(`[image ${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}\n`);
// One logger for both conventions: log(msg), log.info(msg), log.verbose(msg).
const log = Object.assign((msg) => say(msg), { info: say, verbose: opts.verbose ? say : () => {} });
const report = {
  ok: false,
  skipped: false,
  reason: null,
  distribution: null,
  build_seconds: { cold: null, warm: null },
  cache: null,
  image_bytes: null,
  rootfs_bytes: null,
  boot_to_agent_seconds: null,
  versions: {},
  checks: [],
  wall_seconds: null,
  // the host's 1-minute load at the start and the end: boot times under TCG follow it closely
  host_load: { start: Math.round(loadavg()[0] * 100) / 100, end: null },
};
function finish(code) {
  report.wall_seconds = Math.round((Date.now() - started) / 100) / 10;
  report.host_load.end = Math.round(loadavg()[0] * 100) / 100;
  process.stdout.write(`IMAGE-REPORT ${JSON.stringify(report)}\n`);
  process.exit(code);
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    say(`${sig}: stopping`);
    report.reason = `interrupted by ${sig}`;
    finish(130); // qemu.mjs kills any live VM on exit
  });
}

const has = (cmd) => {
  try {
    execFileSync('sh', ['-c', 'command -v "$1"', 'sh', cmd], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
function lacking() {
  if (process.getuid?.() !== 0) return 'not root (qemu, the config drive and the build need root)';
  const missing = ['qemu-system-x86_64', 'qemu-img'].filter((c) => !has(c));
  if (!isoTool()) missing.push('genisoimage or xorriso');
  return missing.length ? `missing: ${missing.join(', ')} (apt-get install qemu-system-x86 qemu-utils genisoimage)` : null;
}

/**
 * Builds once (twice with --twice: the second build is forced, so it is a real warm-cache build
 * rather than the first image handed back). buildImage's `cache` is 'cold' or 'warm' for a build
 * it ran, 'reused' when it returned an identical earlier image: then no build time is measured in
 * this run, and the report keeps the earlier build's figures apart (build_reused).
 */
async function build() {
  const { buildImage } = await import('./lib/build.mjs');
  let built = null;
  for (let i = 0; i < (opts.twice ? 2 : 1); i++) {
    say(`building the ${opts.release} image (${i === 0 ? 'first' : 'second'} build)`);
    built = await buildImage({ release: opts.release, ...(opts.out ? { outDir: opts.out } : {}), log, force: Boolean(opts.force) || i > 0 });
    if (built?.skipped) return built;
    report.cache = built.cache ?? null;
    if (built.cache === 'cold' || built.cache === 'warm') report.build_seconds[built.cache] = built.seconds;
    else report.build_reused = { seconds: built.built_seconds ?? null, cache: built.built_cache ?? null };
    say(`image ready in ${built.seconds} s (cache: ${built.cache}): ${built.qcow2}`);
  }
  report.rootfs_bytes = built.rootfs_bytes ?? null;
  // where the image is: the VM tiers boot on the tar's root file system (test/run-tiers.mjs)
  Object.assign(report, { qcow2: built.qcow2 ?? null, tar: built.tar ?? null });
  return built;
}

async function main() {
  const why = lacking();
  if (why) {
    report.skipped = true;
    report.reason = why;
    say(`SKIP: ${why}`);
    return finish(process.env.CI === 'true' ? 1 : 0);
  }
  if (opts['skip-build'] && !opts.qcow2) throw new Error('--skip-build needs --qcow2 FILE');
  const workDir = mkdtempSync(join(tmpdir(), 'amphora-image-'));
  let code = 1;
  try {
    let qcow2 = opts.qcow2 ? resolve(opts.qcow2) : null;
    if (!opts['skip-build']) {
      const built = await build();
      if (built?.skipped) {
        report.skipped = true;
        report.reason = built.reason;
        say(`SKIP: ${built.reason}`);
        return finish(process.env.CI === 'true' ? 1 : 0);
      }
      qcow2 = built.qcow2;
    }
    if (!existsSync(qcow2)) throw new Error(`no image at ${qcow2}`);
    report.image_bytes = statSync(qcow2).size;
    const r = await bootAndCheck({ qcow2, workDir: join(workDir, 'boot'), log, timeoutSeconds: Number(opts.timeout), smp: Number(opts.smp) });
    Object.assign(report, {
      ok: r.ok,
      distribution: r.distribution,
      boot_to_agent_seconds: r.boot_to_agent_seconds,
      versions: r.versions,
      checks: r.checks,
      probe_seconds: r.probe_seconds,
      agent_conf_source: r.agent_conf_source,
      failed_units: r.diagnostics?.failed_units ?? null,
      ...(r.ok ? {} : { diagnostics: r.diagnostics }),
      smp: Number(opts.smp),
    });
    code = r.ok ? 0 : 1;
  } catch (e) {
    report.reason = e.message;
    say(`FAILED: ${e.stack ?? e.message}`);
  } finally {
    if (opts.keep) say(`work dir kept: ${workDir}`);
    else rmSync(workDir, { recursive: true, force: true });
  }
  return finish(code);
}

main().catch((e) => {
  report.reason = e.message;
  say(`FAILED: ${e.stack ?? e.message}`);
  finish(1);
});
