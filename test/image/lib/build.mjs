/**
 * @module test/image/lib/build
 * Builds an amphora image (qcow2 for an operator, tar of the root file system for the VM tiers)
 * from the project's element with the installed diskimage-builder, in one DIB run:
 * `npm run build` + `npm pack` (dist/ is not in git), then `disk-image-create -t qcow2,tar
 * debian-minimal vm <elements>` with what this machine needs (lib/dib-env.mjs: apt sources from
 * the host, the trixie `base` override; dib-path/sudo: partitions without device-mapper).
 * Caches: DIB's own (debootstrap tarball, apt) under ~/.cache/image-create, and the finished image:
 * when the fingerprint of its inputs (lib/inputs-hash.mjs) matches the one recorded beside it,
 * it is returned as it is (`cache: 'reused'`). One DIB build at a time on the machine.
 * Must not: leave DIB running past its time limit, or report an image whose tree fails a check.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { aptSourcesConf, deriveBaseElement, hostMirrors, installedDib, NEEDS_BASE_OVERRIDE } from './dib-env.mjs';
import { inspectImageTree } from './image-tree.mjs';
import { inputsHash } from './inputs-hash.mjs';
import { npmCaFile, packAgent, sourceDirs, whileNoOtherDib } from './steps.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(HERE, '..', '..', '..');
const SHIM_DIR = resolve(HERE, '..', 'dib-path');
const RELEASES = new Set(['trixie', 'bookworm']);
// 547 s were measured for a cold build at load 5-6 on 2 vCPUs (quiet: ~4 min): the limit leaves room.
export const DEFAULT_TIMEOUT_SECONDS = 900;
const RECORD = 'build.json';

export const defaultOutDir = (release) => join('/var/tmp/amphora-agent-image', release);

const loadavg = () => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
const since = (t) => Math.round((Date.now() - t) / 100) / 10;

/** The recorded result of the last good build in `outDir`, if its files are still there. */
function previous(outDir) {
  try {
    const rec = JSON.parse(readFileSync(join(outDir, RECORD), 'utf8'));
    return existsSync(rec.qcow2) && existsSync(rec.tar) ? rec : undefined;
  } catch {
    return undefined;
  }
}

/** Removes what an earlier build left in `outDir` (DIB renames an existing qcow2 instead of replacing it). */
function cleanOut(outDir, name) {
  mkdirSync(outDir, { recursive: true });
  for (const f of readdirSync(outDir)) {
    if (f.startsWith(name) || f === RECORD || f === 'dib.log') rmSync(join(outDir, f), { recursive: true, force: true });
  }
}

/** Runs disk-image-create with `env`, its output into `logFile`; kills its process group at the deadline. */
function runDib(args, env, logFile, deadline) {
  return new Promise((resolveRun, reject) => {
    const out = createWriteStream(logFile);
    const child = spawn('disk-image-create', args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(out, { end: false });
    child.stderr.pipe(out, { end: false });
    let timedOut = false;
    let interrupted;
    const kill = (sig) => {
      try {
        process.kill(-child.pid, sig);
      } catch {
        /* already gone */
      }
    };
    // DIB runs in its own process group (so that the limit ends all of it): an interrupt of
    // this process must reach it too, or it would go on building with nobody waiting.
    const onSignal = (sig) => {
      interrupted = sig;
      kill('SIGTERM');
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    // SIGTERM first: DIB's traps unmount and detach its loop devices; SIGKILL if that hangs.
    const timer = setTimeout(() => {
      timedOut = true;
      kill('SIGTERM');
      setTimeout(() => kill('SIGKILL'), 60_000).unref();
    }, Math.max(1, deadline - Date.now()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      out.end(() => resolveRun({ code, signal, timedOut, interrupted }));
    });
  });
}

/** The last `n` lines of DIB's log, for a failure message. */
function tail(file, n = 40) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Builds (or reuses) the image of `release` in `outDir` and returns where it is and what it cost:
 * { qcow2, tar, seconds, cache: 'cold'|'warm'|'reused', qcow2_bytes, rootfs_bytes, dib_version,
 *   release, steps, load, versions, checks, inputs }.
 * `elements` replaces ['amphora-agent'] (the agent is packed only when it is in the list), and
 * `elementsPath` adds folders to ELEMENTS_PATH (before the project's), e.g. for a reference image.
 * `cacheDir` is DIB's cache (DIB_IMAGE_CACHE, default ~/.cache/image-create): an empty one makes
 * a cold build without taking the cache away from other builds on the machine.
 */
export async function buildImage({
  release = 'trixie',
  outDir,
  log = () => {},
  nodeTarball = process.env.DIB_AMPHORA_AGENT_NODE_TARBALL || undefined,
  force = false,
  elements = ['amphora-agent'],
  elementsPath = [],
  name = `amphora-${release}`,
  timeoutSeconds = DEFAULT_TIMEOUT_SECONDS,
  cacheDir = process.env.DIB_IMAGE_CACHE || join(homedir(), '.cache', 'image-create'),
} = {}) {
  const started = Date.now();
  if (!RELEASES.has(release)) throw new Error(`release ${release}: only ${[...RELEASES].join(', ')} are built here`);
  const withAgent = elements.includes('amphora-agent');
  if (withAgent && release === 'bookworm' && !nodeTarball) {
    throw new Error("bookworm's nodejs (18) is older than the agent needs: give a Node.js tarball (--node-tarball or DIB_AMPHORA_AGENT_NODE_TARBALL)");
  }
  if (nodeTarball && !existsSync(nodeTarball)) throw new Error(`Node.js tarball ${nodeTarball} does not exist`);
  outDir = resolve(outDir ?? defaultOutDir(release));
  const dib = installedDib();
  const elementDirs = [...elementsPath.map((p) => resolve(p)), join(REPO, 'diskimage-elements')];
  const scriptFiles = [join(HERE, 'build.mjs'), join(HERE, 'dib-env.mjs'), join(HERE, 'steps.mjs'), join(HERE, 'inputs-hash.mjs'), join(HERE, 'image-tree.mjs'), join(SHIM_DIR, 'sudo')];
  // The agent package is made from these (dist/ is built from src/ by the locked toolchain), so
  // they stand for the packed tarball's contents and a reuse needs no build: see README.md.
  const inputs = inputsHash({
    release,
    dibVersion: dib.version,
    elements,
    elementDirs: [...elementDirs, ...(withAgent ? sourceDirs(REPO) : [])],
    scriptFiles: [...scriptFiles, ...(withAgent ? ['package.json', 'tsconfig.json'].map((f) => join(REPO, f)) : [])],
    lockFile: withAgent ? join(REPO, 'package-lock.json') : undefined,
    nodeTarball,
  });
  const reuse = () => {
    const prev = previous(outDir);
    if (force || prev?.inputs?.hash !== inputs.hash) return undefined;
    log(`inputs unchanged (${inputs.hash.slice(0, 12)}): reusing ${prev.qcow2}`);
    return { ...prev, cache: 'reused', seconds: since(started), built_seconds: prev.seconds, built_cache: prev.cache };
  };
  const early = reuse();
  if (early) return early;

  const steps = {};
  // Waiting for someone else's build is neither this build's time nor its time limit; npm's
  // build waits too, as it would compete for the same cores.
  let waited = await whileNoOtherDib(Date.now() + timeoutSeconds * 1000, log);
  // The build waited for may have made this very image (two callers of the same inputs).
  const made = waited > 0 ? reuse() : undefined;
  if (made) return made;
  const work = mkdtempSync('/var/tmp/amphora-image-work-');
  try {
    let tarball;
    if (withAgent) {
      let t = Date.now();
      // test/run-tiers.mjs has just built dist/ from this tree and runs tests that read it while
      // the image builds: a second build would rewrite their files under them
      if (process.env.AMPHORA_DIST_BUILT === '1') log('dist/ already built (AMPHORA_DIST_BUILT=1)');
      else {
        log('npm run build');
        execFileSync('npm', ['run', '--silent', 'build'], { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'] });
        steps.npm_build = since(t);
      }
      t = Date.now();
      tarball = packAgent(REPO, work);
      steps.npm_pack = since(t);
      log(`packed ${tarball}`);
    }
    // again: another build may have started while npm worked
    waited += await whileNoOtherDib(Date.now() + timeoutSeconds * 1000, log);
    if (waited > 0) steps.waited_for_other_dib = waited;
    const deadline = started + waited * 1000 + timeoutSeconds * 1000;
    cleanOut(outDir, name);
    const overrides = join(work, 'elements');
    mkdirSync(overrides);
    if (NEEDS_BASE_OVERRIDE.has(release)) deriveBaseElement(dib, overrides);
    const cache = existsSync(join(cacheDir, `debootstrap-debian-${release}-amd64.tar.gz`)) ? 'warm' : 'cold';
    const mirrors = hostMirrors();
    const caFile = npmCaFile();
    const env = {
      ...process.env,
      PATH: `${SHIM_DIR}:${process.env.PATH}`,
      ELEMENTS_PATH: [overrides, ...elementDirs].join(':'),
      DIB_RELEASE: release,
      DIB_DISTRIBUTION_MIRROR: mirrors.archive,
      DIB_APT_SOURCES_CONF: aptSourcesConf(release, mirrors),
      DIB_IMAGE_CACHE: cacheDir,
      DIB_DEBOOTSTRAP_CACHE: '1',
      DIB_DEBIAN_USE_DEBOOTSTRAP_CACHE: '1',
      // svc-map's Python in DIB 3.37 picks Python 2 for Debian without it; harmless in 3.13.
      DIB_PYTHON_VERSION: '3',
      DIB_CLOUD_INIT_DATASOURCES: 'ConfigDrive',
      ...(tarball ? { DIB_AMPHORA_AGENT_TARBALL: tarball, DIB_AMPHORA_AGENT_LOCKFILE: join(REPO, 'package-lock.json') } : {}),
      ...(caFile ? { DIB_AMPHORA_AGENT_NPM_CAFILE: caFile } : {}),
      ...(nodeTarball ? { DIB_AMPHORA_AGENT_NODE_TARBALL: resolve(nodeTarball) } : {}),
    };
    const args = ['-a', 'amd64', '-o', join(outDir, name), '-t', 'qcow2,tar', 'debian-minimal', 'vm', ...elements];
    const logFile = join(outDir, 'dib.log');
    const load = { start: loadavg(), samples: [] };
    const sampler = setInterval(() => load.samples.push(loadavg()), 10_000);
    log(`disk-image-create ${args.join(' ')} (${cache} cache, log ${logFile})`);
    let t = Date.now();
    let run;
    try {
      run = await runDib(args, env, logFile, deadline);
    } finally {
      clearInterval(sampler);
    }
    steps.dib = since(t);
    if (run.interrupted) throw new Error(`interrupted by ${run.interrupted}; disk-image-create stopped (log ${logFile})`);
    if (run.timedOut) throw new Error(`disk-image-create did not finish within ${timeoutSeconds} s (load ${loadavg()}); last lines of ${logFile}:\n${tail(logFile)}`);
    if (run.code !== 0) throw new Error(`disk-image-create failed (exit ${run.code ?? run.signal}); last lines of ${logFile}:\n${tail(logFile)}`);
    const qcow2 = join(outDir, `${name}.qcow2`);
    const tar = join(outDir, `${name}.tar`);
    for (const f of [qcow2, tar]) if (!existsSync(f)) throw new Error(`disk-image-create succeeded but ${f} is missing; last lines of ${logFile}:\n${tail(logFile)}`);
    t = Date.now();
    // Versions for every image; the checks are the amphora-agent element's promises, so only for it.
    const tree = inspectImageTree(tar, { nodeFromTarball: Boolean(nodeTarball) });
    if (!withAgent) tree.checks = [];
    steps.inspect = since(t);
    const nodeLine = /amphora-agent: node (v\d+\.\d+\.\d+)/.exec(readFileSync(logFile, 'utf8'));
    const result = {
      qcow2,
      tar,
      seconds: Math.round((since(started) - waited) * 10) / 10,
      cache,
      qcow2_bytes: statSync(qcow2).size,
      rootfs_bytes: statSync(tar).size,
      dib_version: dib.version,
      release,
      elements,
      steps,
      load: { start: load.start, end: loadavg(), mean: load.samples.length ? Math.round((load.samples.reduce((a, b) => a + b, 0) / load.samples.length) * 100) / 100 : load.start },
      versions: { node: nodeLine?.[1] ?? null, ...tree.versions },
      checks: tree.checks,
      inputs,
      built_at: new Date().toISOString(),
    };
    if (tree.checks.some((c) => !c.ok)) {
      const failed = tree.checks.filter((c) => !c.ok).map((c) => c.name);
      throw new Error(`the image's tree fails: ${failed.join('; ')} (image left in ${outDir}, not recorded for reuse)`);
    }
    writeFileSync(join(outDir, RECORD), `${JSON.stringify(result, null, 2)}\n`);
    return result;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
