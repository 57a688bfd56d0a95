/**
 * @module services/apply/daemon-health
 * After start or reload, the agent checks that a daemon (keepalived, haproxy) is
 * really alive and serving before it answers (the reference answers "started" for a keepalived
 * that died a moment later): the main process and the children its config needs must be alive,
 * and stay alive for `process_settle_seconds`. Otherwise the answer is a 500 with the log's tail.
 * An init adapter that spawned the daemon itself reports its exit (`InitSystem.exited`): that
 * ends a wait at once, even before the daemon wrote a pid file. The waits read the log from a byte
 * offset, so the caller holds the log's lock (services/daemon-logs.ts) against a rotation meanwhile.
 */
import { constants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { CommandFailed } from '../../model/errors.js';
import { diedAfterWritingPid, pidFileState, type DaemonIdentity } from '../../system/processes.js';
import type { Paths } from '../../system/paths.js';
import { removePidFiles } from '../../system/init/process-signals.js';
import { describeExit, reloadOf, type DaemonExit, type DaemonUnitSpec, type InitSystem } from '../../system/init/types.js';
import type { StartProof } from './start-proof.js';

const POLL_MS = 25;

const LOG_TAIL_LINES = 30;

const LOG_WINDOW = 64 * 1024;

/** The last lines of a daemon's log: only its last 64 KiB are read (the live file; rotated copies are not). */
export async function logTail(file: string, lines = LOG_TAIL_LINES): Promise<string> {
  const size = await logMark(file);
  if (size === 0) return '(no log output)';
  const text = await logSince(file, Math.max(0, size - LOG_WINDOW));
  return text.split('\n').slice(-lines - 1).join('\n').trim();
}

export interface HealthWait {
  readonly daemon: DaemonUnitSpec;
  /** Pid files that must be alive besides the main one (e.g. the health checker). */
  readonly children: readonly string[];
  readonly settleMs: number;
  readonly timeoutMs?: number;
  /** What the caller was doing, for the error message ("start", "reload", …). */
  readonly action: string;
  /** The log's size before the start: the daemon's `ready` line, when it has one, must come after it. */
  readonly since?: number;
  /** How the daemon's process ended, once it has, when the init adapter can tell (`InitSystem.exited`). */
  readonly exited?: (() => DaemonExit | undefined) | undefined;
  /** A fact about the daemon's work that must hold once it is up (start-proof.ts), by the same deadline. */
  readonly proof?: StartProof | undefined;
}

/** The 500 of a daemon that is not up after `action`, with its log's tail; its exit status when known. */
async function notRunning(daemon: DaemonUnitSpec, action: string, why: string, exit: DaemonExit | undefined): Promise<CommandFailed> {
  const tail = await logTail(daemon.logFile);
  if (exit === undefined) return new CommandFailed([daemon.unit, action], undefined, tail, `${daemon.unit} ${why}`);
  return new CommandFailed([daemon.unit, action], exit.exitCode ?? undefined, tail, `${daemon.unit} exited during ${action} (${describeExit(exit)})`);
}

/** Every pid file names a live process that is the daemon (keepalived's children share its identity). */
async function allAlive(paths: Paths, files: readonly string[], identity: DaemonIdentity): Promise<boolean> {
  const states = await Promise.all(files.map((f) => pidFileState(paths, f, identity)));
  return states.every((s) => s === 'alive');
}

/**
 * Whether every pid file names a live process by `deadline`. A child may come only after the
 * reload line: keepalived starts its checker child when a reload brings the first virtual
 * server (Octavia's pool create after a listener without one), a few hundred ms later under a
 * slow CPU, and its pid file follows. A dead main process ends the wait at once.
 */
async function aliveBy(paths: Paths, daemon: DaemonUnitSpec, children: readonly string[], deadline: number, exited: () => DaemonExit | undefined): Promise<boolean> {
  for (;;) {
    const [mainState, ...childStates] = await Promise.all([daemon.pidFile, ...children].map((f) => pidFileState(paths, f, daemon.identity)));
    if (mainState === 'alive' && childStates.every((c) => c === 'alive')) return true;
    if (exited() !== undefined || mainState !== 'alive' || Date.now() >= deadline) return false;
    await sleep(POLL_MS);
  }
}

/**
 * Waits until the daemon's processes are alive and, for a daemon with a `ready` line (haproxy's
 * "Loading success."), until it has logged that line past `since`; then until they stay alive
 * for `settleMs`. A daemon known to be dead ends the wait at once, so the generous timeout
 * (`process_ready_timeout`) is only ever spent on a slow daemon, not on a dead one: its process
 * exited (`exited`, from an adapter that spawned it; before or after it wrote its pid file), or
 * its main process wrote its pid file and is gone. (Pid files were cleared before the start.)
 */
export async function waitHealthy(paths: Paths, wait: HealthWait): Promise<void> {
  const files = [wait.daemon.pidFile, ...wait.children];
  const deadline = Date.now() + (wait.timeoutMs ?? 5000);
  const ready = wait.daemon.ready;
  const follower = ready === undefined ? undefined : new LogFollower(wait.daemon.logFile, wait.since ?? 0);
  let said = follower === undefined;
  let up = false;
  while (Date.now() < deadline) {
    if (wait.exited?.() !== undefined) break;
    if (!said && follower !== undefined && ready !== undefined) said = (await follower.scan([ready])) === 0;
    if (said && (await allAlive(paths, files, wait.daemon.identity))) {
      up = true;
      break;
    }
    if (await diedAfterWritingPid(paths, wait.daemon.pidFile, wait.daemon.identity)) break;
    await sleep(POLL_MS);
  }
  if (up && wait.settleMs > 0) {
    await sleep(wait.settleMs);
    up = wait.exited?.() === undefined && (await allAlive(paths, files, wait.daemon.identity));
  }
  if (!up) throw await notRunning(wait.daemon, wait.action, `is not running after ${wait.action}`, wait.exited?.());
  if (wait.proof !== undefined) await proven(paths, wait, files, deadline, wait.proof);
}

/**
 * Looks for the start's fact until the deadline (at least once), then checks the processes are
 * still the daemon's: a fact seen from a dying daemon proves nothing.
 */
async function proven(paths: Paths, wait: HealthWait, files: readonly string[], deadline: number, proof: StartProof): Promise<void> {
  for (;;) {
    const look = await proof();
    if (look.holds) break;
    if (look.final || Date.now() >= deadline || wait.exited?.() !== undefined || !(await allAlive(paths, files, wait.daemon.identity))) {
      throw await notRunning(wait.daemon, wait.action, `is running but not serving after ${wait.action}: ${look.why}`, wait.exited?.());
    }
    await sleep(POLL_MS * 4);
  }
  if (wait.exited?.() !== undefined || !(await allAlive(paths, files, wait.daemon.identity))) {
    throw await notRunning(wait.daemon, wait.action, `is not running after ${wait.action}`, wait.exited?.());
  }
}

/** The log's current size: what a reload must write past. */
export async function logMark(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
}

async function logSince(file: string, offset: number): Promise<string> {
  return (await logBytesSince(file, offset)).toString('utf8');
}

/** Up to 64 KiB of the log from `offset`; empty when there is nothing (or no file). */
async function logBytesSince(file: string, offset: number): Promise<Buffer> {
  let handle;
  try {
    // never through a link: its target's text would reach the API's answer
    handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return Buffer.alloc(0);
    throw err;
  }
  try {
    const { size } = await handle.stat();
    if (size <= offset) return Buffer.alloc(0);
    const buffer = Buffer.alloc(Math.min(size - offset, LOG_WINDOW));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * Follows a log from a byte offset, one window at a time, so that a busy daemon's other output
 * (haproxy's traffic log, say) cannot push the line a caller waits for out of view. A line cut
 * by a window's end is looked at again with the next window.
 */
class LogFollower {
  private carry: Buffer = Buffer.alloc(0);

  constructor(
    private readonly file: string,
    private offset: number,
  ) {}

  /**
   * The index of the pattern that matches earliest in the whole lines written since the last
   * call, or -1 when none does.
   */
  async scan(patterns: readonly RegExp[]): Promise<number> {
    for (;;) {
      const chunk = await logBytesSince(this.file, this.offset);
      if (chunk.length === 0) return -1;
      this.offset += chunk.length;
      const bytes = Buffer.concat([this.carry, chunk]);
      const cut = bytes.lastIndexOf(0x0a) + 1;
      // A line longer than a window is not a line anyone waits for: drop it.
      this.carry = bytes.length - cut > LOG_WINDOW ? Buffer.alloc(0) : bytes.subarray(cut);
      const lines = bytes.subarray(0, cut).toString('utf8');
      let best = -1;
      let at = Infinity;
      patterns.forEach((re, i) => {
        const found = lines.search(re);
        if (found >= 0 && found < at) [best, at] = [i, found];
      });
      if (best >= 0) return best;
    }
  }
}

/**
 * Waits until the daemon logs `wanted.acknowledged` past `since`; `wanted.failed`, when set, ends
 * the wait at once. Returns what it saw.
 */
async function waitForLine(
  file: string,
  since: number,
  wanted: { readonly acknowledged: RegExp; readonly failed: RegExp | null },
  timeoutMs: number,
  exited: () => boolean,
): Promise<'acknowledged' | 'failed' | 'silent' | 'exited'> {
  const follower = new LogFollower(file, since);
  const patterns = wanted.failed ? [wanted.acknowledged, wanted.failed] : [wanted.acknowledged];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hit = await follower.scan(patterns);
    if (hit === 0) return 'acknowledged';
    if (hit === 1) return 'failed';
    // looked at after the log, so that a daemon's last words are read before its exit is
    if (exited()) return 'exited';
    if (Date.now() >= deadline) return 'silent';
    await sleep(POLL_MS);
  }
}

/**
 * After a reload signal the pid files already name the live processes, so liveness alone proves
 * nothing and a fixed settle only adds latency to every changed-config reload. Each daemon logs
 * a line when it acts on the signal (keepalived "Reloading ...", haproxy's master "Loading
 * success."; see `DaemonUnitSpec.reload`): wait for that line past `since` (the log's size before
 * the signal), then check that the processes are alive (children it needs may come a moment after
 * the line: they have until the same deadline). A daemon that logs its reload failure (haproxy
 * keeps the old workers) fails at once.
 */
export async function waitReloaded(paths: Paths, wait: Omit<HealthWait, 'settleMs' | 'action'> & { readonly since: number }): Promise<void> {
  const exited = () => wait.exited?.();
  const timeoutMs = wait.timeoutMs ?? 5000;
  const deadline = Date.now() + timeoutMs;
  const seen = await waitForLine(wait.daemon.logFile, wait.since, reloadOf(wait.daemon), timeoutMs, () => exited() !== undefined);
  if (seen === 'acknowledged' && exited() === undefined && (await aliveBy(paths, wait.daemon, wait.children, deadline, exited))) return;
  const why = seen === 'failed' ? 'refused the reload' : seen === 'silent' ? 'did not acknowledge the reload' : 'is not running after reload';
  throw await notRunning(wait.daemon, 'reload', why, exited());
}

/**
 * Applies the config a daemon's unit points at: a running daemon gets a reload (its reload
 * signal) and must acknowledge it; a stopped one is started from clean pid files, must log its
 * `ready` line when it has one, and must stay alive for `settleMs`. Used by the staged apply for
 * every daemon.
 */
export async function startOrReload(
  paths: Paths,
  init: InitSystem,
  apply: {
    readonly daemon: DaemonUnitSpec;
    readonly children: readonly string[];
    readonly running: boolean;
    readonly settleMs: number;
    /** How long the daemon may take to come up or acknowledge; a daemon that does so sooner answers sooner. */
    readonly timeoutMs: number;
    /** Runs just before the daemon is started or signalled to reload (haproxy's server states). */
    readonly beforeActivate?: ((how: 'start' | 'reload') => Promise<void>) | undefined;
    /** What must hold after a start besides live processes (start-proof.ts); a reload is proven by its line. */
    readonly proof?: StartProof | undefined;
  },
): Promise<'started' | 'reloaded'> {
  const { daemon, children, timeoutMs } = apply;
  // an adapter without the capability answers nothing: the waits then go by pid files alone
  const exited = () => init.exited?.(daemon);
  if (apply.running) {
    await apply.beforeActivate?.('reload');
    const since = await logMark(daemon.logFile);
    await init.reload(daemon);
    await waitReloaded(paths, { daemon, children, since, timeoutMs, exited });
    return 'reloaded';
  }
  await removePidFiles([daemon.pidFile, ...daemon.childPidFiles]);
  await apply.beforeActivate?.('start');
  const since = await logMark(daemon.logFile);
  await init.start(daemon);
  await waitHealthy(paths, { daemon, children, settleMs: apply.settleMs, action: 'start', since, timeoutMs, exited, proof: apply.proof });
  return 'started';
}
