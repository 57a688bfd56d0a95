/**
 * @module system/processes
 * Processes known by their pid files: the one reader of a pid file (`readPid`), and liveness:
 * a pid file whose pid has a `<proc_dir>/<pid>` entry is alive. Used for listener status,
 * details, process counts, the health waits after start and reload, and every heartbeat.
 *
 * The reads are synchronous on purpose: a pid file is a few bytes on a local file system and
 * `/proc/<pid>` is a kernel lookup, both microseconds, while each promise-based call is a
 * round trip through libuv's thread pool. A heartbeat checks every daemon's pid file, and the
 * heartbeat bench found those round trips were a large part of its CPU.
 */
import { accessSync } from 'node:fs';
import { readIfExistsSync } from './files.js';
import type { Paths } from './paths.js';

function exists(path: string): boolean {
  try {
    accessSync(path);
    return true;
  } catch {
    return false;
  }
}

export type PidFileState = 'absent' | 'alive' | 'stale';

/** The pid a pid file names: a positive integer on its first line, else undefined (no file, or junk). */
export function parsePid(text: string | undefined): number | undefined {
  const pid = Number(text?.trim());
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

export async function readPid(pidFile: string): Promise<number | undefined> {
  return parsePid(readIfExistsSync(pidFile));
}

/**
 * True when the pid file names a pid whose process is gone: the daemon wrote it and died. A
 * missing, empty or half-written pid file (a daemon still starting) is not that.
 */
export async function diedAfterWritingPid(paths: Paths, pidFile: string): Promise<boolean> {
  const pid = await readPid(pidFile);
  if (pid === undefined) return false;
  return !exists(paths.proc(pid));
}

export async function pidFileState(paths: Paths, pidFile: string): Promise<PidFileState> {
  const text = readIfExistsSync(pidFile);
  if (text === undefined) return 'absent';
  const pid = parsePid(text);
  if (pid === undefined) return 'stale';
  return exists(paths.proc(pid)) ? 'alive' : 'stale';
}
