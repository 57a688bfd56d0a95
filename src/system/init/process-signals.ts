/**
 * @module system/init/process-signals
 * Signals to a daemon known by its pid file (read by system/processes.ts), and waiting for it
 * to exit. Used by the direct adapter, and to clear stale pid files left by a crashed daemon.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { removeFile } from '../files.js';

export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** SIGTERM, wait up to `graceMs`, then SIGKILL. Returns once the process is gone. */
export async function terminate(pid: number, graceMs = 10_000): Promise<void> {
  if (!processExists(pid)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!processExists(pid)) return;
    await sleep(25);
  }
  process.kill(pid, 'SIGKILL');
  while (processExists(pid)) await sleep(25);
}

export async function removePidFiles(files: readonly string[]): Promise<void> {
  await Promise.all(files.map((f) => removeFile(f)));
}
