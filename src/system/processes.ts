/**
 * @module system/processes
 * Processes known by their pid files: the one reader of a pid file (`readPid`), and liveness:
 * a pid file whose pid has a `<proc_dir>/<pid>` entry is alive. Used for listener status,
 * details, process counts and the health waits after start and reload.
 */
import { access } from 'node:fs/promises';
import { readIfExists } from './files.js';
import type { Paths } from './paths.js';

export type PidFileState = 'absent' | 'alive' | 'stale';

/** The pid a pid file names: a positive integer on its first line, else undefined (no file, or junk). */
export function parsePid(text: string | undefined): number | undefined {
  const pid = Number(text?.trim());
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

export async function readPid(pidFile: string): Promise<number | undefined> {
  return parsePid(await readIfExists(pidFile));
}

/**
 * True when the pid file names a pid whose process is gone: the daemon wrote it and died. A
 * missing, empty or half-written pid file (a daemon still starting) is not that.
 */
export async function diedAfterWritingPid(paths: Paths, pidFile: string): Promise<boolean> {
  const pid = await readPid(pidFile);
  if (pid === undefined) return false;
  try {
    await access(paths.proc(pid));
    return false;
  } catch {
    return true;
  }
}

export async function pidFileState(paths: Paths, pidFile: string): Promise<PidFileState> {
  const text = await readIfExists(pidFile);
  if (text === undefined) return 'absent';
  const pid = parsePid(text);
  if (pid === undefined) return 'stale';
  try {
    await access(paths.proc(pid));
    return 'alive';
  } catch {
    return 'stale';
  }
}
