/**
 * @module services/daemon-health
 * After start, restart or reload, the agent checks that keepalived is really alive and
 * serving before it answers (the reference answers "started" for a keepalived that died a
 * moment later): the main process and the children its config needs must be alive, and stay
 * alive for `process_settle_seconds`. Otherwise the answer is a 500 with the log's tail.
 */
import { open, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { CommandFailed } from '../model/errors.js';
import { pidFileState } from '../system/processes.js';
import type { Paths } from '../system/paths.js';
import { removePidFiles } from '../system/init/process-signals.js';
import type { DaemonUnitSpec, InitSystem } from '../system/init/types.js';

const POLL_MS = 25;

const LOG_TAIL_LINES = 30;

const LOG_WINDOW = 64 * 1024;

/** The last lines of a log that is never rotated: only its last 64 KiB are read. */
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
}

async function allAlive(paths: Paths, files: readonly string[]): Promise<boolean> {
  const states = await Promise.all(files.map((f) => pidFileState(paths, f)));
  return states.every((s) => s === 'alive');
}

export async function waitHealthy(paths: Paths, wait: HealthWait): Promise<void> {
  const files = [wait.daemon.pidFile, ...wait.children];
  const deadline = Date.now() + (wait.timeoutMs ?? 5000);
  let up = false;
  while (Date.now() < deadline) {
    if (await allAlive(paths, files)) {
      up = true;
      break;
    }
    await sleep(POLL_MS);
  }
  if (up && wait.settleMs > 0) {
    await sleep(wait.settleMs);
    up = await allAlive(paths, files);
  }
  if (!up) {
    throw new CommandFailed(
      [wait.daemon.unit, wait.action],
      undefined,
      await logTail(wait.daemon.logFile),
      `${wait.daemon.unit} is not running after ${wait.action}`,
    );
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
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
  try {
    const { size } = await handle.stat();
    if (size <= offset) return '';
    const buffer = Buffer.alloc(Math.min(size - offset, LOG_WINDOW));
    await handle.read(buffer, 0, buffer.length, offset);
    return buffer.toString('utf8');
  } finally {
    await handle.close();
  }
}

/**
 * After a SIGHUP the pid files already name the live processes, so liveness alone proves
 * nothing and a fixed settle only adds latency to every changed-config reload. keepalived logs
 * "Reloading ..." when it acts on the signal: wait for that line past `since` (the log's size
 * before the signal), then check that the processes are still alive.
 */
export async function waitReloaded(paths: Paths, wait: Omit<HealthWait, 'settleMs' | 'action'> & { readonly since: number }): Promise<void> {
  const deadline = Date.now() + (wait.timeoutMs ?? 5000);
  let acknowledged = false;
  while (!acknowledged && Date.now() < deadline) {
    acknowledged = /Reloading/.test(await logSince(wait.daemon.logFile, wait.since));
    if (!acknowledged) await sleep(POLL_MS);
  }
  const files = [wait.daemon.pidFile, ...wait.children];
  if (acknowledged && (await allAlive(paths, files))) return;
  const why = acknowledged ? 'is not running after reload' : 'did not acknowledge the reload';
  throw new CommandFailed([wait.daemon.unit, 'reload'], undefined, await logTail(wait.daemon.logFile), `${wait.daemon.unit} ${why}`);
}

/**
 * Applies the config a daemon's unit points at: a running daemon gets a reload (SIGHUP) and must
 * acknowledge it; a stopped one is started from clean pid files and must stay alive for
 * `settleMs`. Shared by the LVS listeners and the VRRP keepalived.
 */
export async function startOrReload(
  paths: Paths,
  init: InitSystem,
  apply: { readonly daemon: DaemonUnitSpec; readonly children: readonly string[]; readonly running: boolean; readonly settleMs: number },
): Promise<void> {
  const { daemon, children } = apply;
  if (apply.running) {
    const since = await logMark(daemon.logFile);
    await init.reload(daemon);
    await waitReloaded(paths, { daemon, children, since });
    return;
  }
  await removePidFiles([daemon.pidFile, ...daemon.childPidFiles]);
  await init.start(daemon);
  await waitHealthy(paths, { daemon, children, settleMs: apply.settleMs, action: 'start' });
}
