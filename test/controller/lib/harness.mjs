/**
 * @module test/controller/lib/harness
 * Runs the shared octavia-controller harness for the tier: assembles a harness directory in the
 * run's work directory (symbolic links to the shared scripts, with the tier's ts-agent.sh and
 * scenarios in place of the shared ts-agent.sh: the shared scripts find each other relative to
 * lib.sh, so the launcher then starts our agent through the tier's variant), and runs up.sh,
 * the scenarios and down.sh as child processes in their own process groups, each with a hard
 * time limit. It never edits the shared tools.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { HARNESS_FILES } from './requirements.mjs';

const TIER_FILES = ['ts-agent.sh', 'scenario-lib.sh', 'scenario-http.sh', 'scenario-udp.sh'];

/** Links the shared harness and the tier's scripts into `<work>/harness`; returns its path. */
export function assembleHarness({ work, controllerDir, tierDir }) {
  const dir = join(work, 'harness');
  mkdirSync(dir, { recursive: true });
  for (const f of HARNESS_FILES) symlinkSync(join(controllerDir, f), join(dir, f));
  for (const f of TIER_FILES) symlinkSync(join(tierDir, f), join(dir, f));
  return dir;
}

/**
 * The environment every harness script gets. A namespace prefix of our own (with the pid, so
 * two runs do not meet and a developer's ctlprobe-* harness is left alone), the octavia-ref
 * tools, this checkout as "our agent", and a TMPDIR of the run (up.sh records its last state
 * directory there rather than in /tmp).
 */
export function harnessEnv({ work, refDir, repo }) {
  const tmp = join(work, 'tmp');
  mkdirSync(tmp, { recursive: true });
  return {
    ...process.env,
    OCTCTL_NS_PREFIX: `ctier${process.pid}`,
    OCTAVIA_REF_DIR: refDir,
    OCTCTL_TS_AGENT_DIR: repo,
    TMPDIR: tmp,
  };
}

let current = null;

/** Kills the process group of the command that runs now (on SIGINT/SIGTERM of the tier). */
export function killCurrent() {
  if (current) {
    try {
      process.kill(-current.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/**
 * Runs one command in its own process group, its output appended to `logFile` (and echoed when
 * `verbose`). Kills the group after `limitSec`. Resolves to {code, stdout, seconds, timedOut}.
 */
export function runLogged(cmd, args, { env, logFile, limitSec, verbose }) {
  const started = Date.now();
  const log = createWriteStream(logFile, { flags: 'a' });
  log.write(`\n$ ${cmd} ${args.join(' ')}\n`);
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    current = child;
    let stdout = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killCurrent();
    }, limitSec * 1000);
    const sink = (chunk, keep) => {
      if (keep) stdout += chunk;
      log.write(chunk);
      if (verbose) process.stderr.write(chunk);
    };
    child.stdout.on('data', (c) => sink(c, true));
    child.stderr.on('data', (c) => sink(c, false));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      current = null;
      log.end();
      resolve({ code: code ?? (signal ? 128 : 1), stdout, seconds: (Date.now() - started) / 1000, timedOut });
    });
  });
}

/** up.sh's own step timings ($STATE/timings: "name seconds" per line) as an object. */
export function readTimings(state) {
  const out = {};
  try {
    for (const line of readFileSync(join(state, 'timings'), 'utf8').split('\n')) {
      const [name, secs] = line.trim().split(/\s+/);
      if (name && secs) out[name] = Number(secs);
    }
  } catch {
    // up.sh stopped before it wrote any
  }
  return out;
}

/** The CTLSTEP lines of a scenario's output, and the ids it recorded (NAME=UUID lines). */
export function readScenario(stdout, out) {
  const steps = stdout
    .split('\n')
    .filter((l) => l.startsWith('CTLSTEP '))
    .map((l) => JSON.parse(l.slice('CTLSTEP '.length)));
  const ids = {};
  try {
    for (const line of readFileSync(join(out, 'ids'), 'utf8').split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0 && line.slice(eq + 1) && line.slice(eq + 1) !== 'null') ids[line.slice(0, eq)] = line.slice(eq + 1);
    }
  } catch {
    // no object was made
  }
  return { steps, ids };
}
