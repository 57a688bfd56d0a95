/**
 * @module system/processes
 * Process liveness from pid files: a pid file whose pid has a `<proc_dir>/<pid>` entry is alive.
 * Used by the details/listeners status and, later, the VRRP check script logic.
 */
import { access } from 'node:fs/promises';
import { readIfExists } from './files.js';
import type { Paths } from './paths.js';

export type PidFileState = 'absent' | 'alive' | 'stale';

export async function pidFileState(paths: Paths, pidFile: string): Promise<PidFileState> {
  const text = await readIfExists(pidFile);
  if (text === undefined) return 'absent';
  const pid = Number(text.trim());
  if (!Number.isSafeInteger(pid) || pid <= 0) return 'stale';
  try {
    await access(paths.proc(pid));
    return 'alive';
  } catch {
    return 'stale';
  }
}
