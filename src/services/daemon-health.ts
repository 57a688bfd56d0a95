/**
 * @module services/daemon-health
 * After start, restart or reload, the agent checks that keepalived is really alive and
 * serving before it answers (the reference answers "started" for a keepalived that died a
 * moment later): the main process and the children its config needs must be alive, and stay
 * alive for `process_settle_seconds`. Otherwise the answer is a 500 with the log's tail.
 */
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { CommandFailed } from '../model/errors.js';
import { pidFileState } from '../system/processes.js';
import type { Paths } from '../system/paths.js';
import type { DaemonUnitSpec } from '../system/init/types.js';

const POLL_MS = 25;
/**
 * After a SIGHUP the pid files already name the live processes, so a long settle would only
 * add latency to every changed-config reload; this short one still catches a keepalived that
 * exits on the reload itself. Starts keep the full `process_settle_seconds`.
 */
export const RELOAD_SETTLE_MS = 50;
const LOG_TAIL_LINES = 30;

export async function logTail(file: string, lines = LOG_TAIL_LINES): Promise<string> {
  try {
    const text = await readFile(file, 'utf8');
    const start = Math.max(0, text.length - 64 * 1024);
    return text.slice(start).split('\n').slice(-lines - 1).join('\n').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '(no log output)';
    throw err;
  }
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
