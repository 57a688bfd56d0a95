/**
 * Suite "image" (opt-in: BENCH_SUITES=image): our amphora image beside one built the same way
 * around Octavia's reference agent (Debian 13's octavia-agent 16.0.0). Both images are built, or
 * reused while their inputs are unchanged, by the project's image build (lib/image-build.mjs),
 * then each is booted BENCH_IMAGE_BOOTS times under qemu (TCG) with the controller's config drive
 * (lib/image-boot.mjs), one VM at a time, the two images alternating, each boot after waiting
 * (BENCH_IMAGE_QUIET_WAIT s at most) for other image builds and VMs on the machine to end. Figures: boot-to-agent-
 * answering seconds (median and samples), image sizes, the build's seconds, and the versions of
 * the agent, keepalived, haproxy and the kernel in each image.
 */
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { timedBoot } from '../lib/image-boot.mjs';
import { ensureImage } from '../lib/image-build.mjs';
import { imageSizes, imageVersions } from '../lib/image-facts.mjs';
import { envInt } from '../lib/knobs.mjs';
import { log } from '../lib/log.mjs';
import { runCommand } from '../lib/processes.mjs';
import { compare, missingFigures } from '../lib/report.mjs';
import { round } from '../lib/stats.mjs';

export const name = 'image';

const SIDES = ['ours', 'reference'];
const REQUIRED = ['boot_to_agent_s', 'qcow2_bytes', 'rootfs_bytes', 'build_s'];

const median = (v) => {
  if (v.length === 0) return null;
  const s = [...v].sort((a, b) => a - b);
  const mid = s.length / 2;
  return round(s.length % 2 ? s[Math.floor(mid)] : (s[mid - 1] + s[mid]) / 2, 1);
};
const mib = (bytes) => round(bytes / 2 ** 20, 1);

/** How many other image builds and VMs run on the machine (either slows a TCG boot down). */
async function neighbours() {
  const r = await runCommand('pgrep', ['-c', '-f', 'disk-image-create|qemu-system']);
  return Number(r.stdout.trim()) || 0;
}

/** Waits up to maxSeconds for the machine to have no other build or VM; answers how many are left. */
async function waitForQuiet(maxSeconds) {
  const until = Date.now() + maxSeconds * 1000;
  let busy = await neighbours();
  if (busy > 0) log(`[image] waiting up to ${maxSeconds} s for ${busy} other DIB/qemu process(es) to end before booting`);
  while (busy > 0 && Date.now() < until) {
    await sleep(10_000);
    busy = await neighbours();
  }
  return busy;
}

/**
 * The seconds the build itself took: its steps (npm build and pack for ours, the DIB run) without
 * the wait for another build and the tree inspection. A reused image keeps its build's steps.
 */
function buildSeconds(build) {
  const steps = Object.entries(build.steps ?? {}).filter(([k]) => k !== 'waited_for_other_dib' && k !== 'inspect');
  if (steps.length === 0) return build.cache === 'reused' ? build.built_seconds : build.seconds;
  return round(steps.reduce((sum, [, v]) => sum + v, 0), 1);
}

/** Builds (or reuses) one image and reads its sizes and versions; an error leaves the side empty. */
async function prepareSide(side, rebuild, errors) {
  try {
    const build = await ensureImage(side, { rebuild });
    const [sizes, versions] = await Promise.all([imageSizes(build), imageVersions(build.tar)]);
    const built = buildSeconds(build);
    log(`[image ${side}] ${build.qcow2}: ${mib(sizes.qcow2_bytes)} MiB qcow2, ${mib(sizes.rootfs_bytes)} MiB of files; agent ${versions.agent}`);
    return { build, sizes, versions, built };
  } catch (err) {
    errors.push(`${side} image: ${err.message.split('\n')[0]}`);
    log(`[image ${side}] ${err.message}`);
    return null;
  }
}

/** Boots the images in turn, `boots` rounds, the first side alternating; answers samples per side. */
async function bootRounds(ctx, images, { boots, timeout, quietWait }, errors) {
  const samples = { ours: [], reference: [] };
  const loads = { ours: [], reference: [] };
  for (let i = 0; i < boots; i += 1) {
    const order = i % 2 === 0 ? SIDES : [...SIDES].reverse();
    for (const side of order.filter((s) => images[s])) {
      const busy = await waitForQuiet(quietWait);
      const load = round(loadavg()[0], 2);
      log(`[image ${side}] boot ${i + 1}/${boots} (load ${load}${busy ? `, ${busy} other DIB/qemu process(es) running` : ''})`);
      try {
        const r = await timedBoot({ qcow2: images[side].build.qcow2, workDir: join(ctx.tmp.dir, 'image', `${side}-${i + 1}`), pki: ctx.pki, timeoutSeconds: timeout });
        samples[side].push(r.seconds);
        loads[side].push(busy ? `${load}+${busy}` : load);
        log(`[image ${side}] boot ${i + 1}: the agent answered after ${r.seconds} s`);
      } catch (err) {
        errors.push(`${side} boot ${i + 1}: ${err.message.split('\n')[0]}`);
      }
    }
  }
  return { samples, loads };
}

function figures(image, samples) {
  if (!image) return Object.fromEntries([...REQUIRED, 'boot_to_agent_samples_s'].map((k) => [k, null]));
  return {
    boot_to_agent_s: median(samples),
    boot_to_agent_samples_s: samples,
    qcow2_bytes: image.sizes.qcow2_bytes,
    rootfs_bytes: image.sizes.rootfs_bytes,
    tar_bytes: image.sizes.tar_bytes,
    rootfs_files: image.sizes.rootfs_files,
    packages: image.versions.packages,
    build_s: image.built,
  };
}

function notes(images, loads) {
  const out = [];
  for (const side of SIDES) {
    const im = images[side];
    if (!im) continue;
    const v = im.versions;
    out.push(`${side}: ${v.agent}; keepalived ${v.keepalived}; haproxy ${v.haproxy}; ${v.kernel}; ${v.runtime}; cloud-init ${v.cloud_init}`);
    out.push(
      `${side}: qcow2 ${mib(im.sizes.qcow2_bytes)} MiB, files ${mib(im.sizes.rootfs_bytes)} MiB, tar ${mib(im.sizes.tar_bytes)} MiB; ` +
        `build ${im.build.cache === 'reused' ? `reused (built ${im.build.built_at} in ${im.built} s, ${im.build.built_cache} cache)` : `${im.build.cache} cache, ${im.built} s`}; ` +
        `load at each boot start [${loads[side].join(' ')}] (+n: other DIB/qemu processes)`,
    );
  }
  return out;
}

export async function run(ctx) {
  const params = {
    boots: envInt('BENCH_IMAGE_BOOTS', 2),
    boot_timeout_s: envInt('BENCH_IMAGE_BOOT_TIMEOUT', 600),
    quiet_wait_s: envInt('BENCH_IMAGE_QUIET_WAIT', 900),
    rebuild: process.env.BENCH_IMAGE_REBUILD === '1',
  };
  const errors = [];
  const images = {};
  // One after the other: build.mjs also waits for any other DIB run on the machine.
  for (const side of SIDES) images[side] = await prepareSide(side, params.rebuild, errors);
  const { samples, loads } = await bootRounds(ctx, images, { boots: params.boots, timeout: params.boot_timeout_s, quietWait: params.quiet_wait_s }, errors);

  const fig = Object.fromEntries(SIDES.map((s) => [s, figures(images[s], samples[s])]));
  for (const side of SIDES) {
    const missing = missingFigures(side, fig[side], REQUIRED);
    if (missing.length > 0) errors.push(`missing figures: ${missing.join(', ')}`);
  }
  return {
    params,
    reference: fig.reference,
    ours: fig.ours,
    ...compare(fig.reference, fig.ours, {}),
    notes: notes(images, loads),
    versions: Object.fromEntries(SIDES.map((s) => [s, images[s]?.versions ?? null])),
    builds: Object.fromEntries(
      SIDES.map((s) => {
        const b = images[s]?.build;
        return [s, b ? { qcow2: b.qcow2, tar: b.tar, cache: b.cache, built_at: b.built_at, built_cache: b.built_cache ?? b.cache, dib_version: b.dib_version, load: b.load, steps: b.steps } : null];
      }),
    ),
    boot_loads: loads,
    errors,
  };
}
