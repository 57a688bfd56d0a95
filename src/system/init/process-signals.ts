/**
 * @module system/init/process-signals
 * Signals to a daemon known by its pid file (read by system/processes.ts), and waiting for it
 * to exit. Every signal is sent only while the pid still names the daemon (`isDaemonProcess`):
 * a pid file outlives its process, and the pid may belong to any other process by then. Used by
 * the direct adapter, and to clear stale pid files left by a crashed daemon.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { removeFile } from '../files.js';
import type { Paths } from '../paths.js';
import { isDaemonProcess, readPid, stillHeldBy, type DaemonIdentity } from '../processes.js';

/** The pid in `pidFile` when it names the daemon `identity` right now; undefined otherwise. */
export async function daemonPid(paths: Paths, pidFile: string, identity: DaemonIdentity): Promise<number | undefined> {
  const pid = await readPid(pidFile);
  return pid !== undefined && isDaemonProcess(paths, pid, identity) ? pid : undefined;
}

/** Sends `signal` when `pid` is still the daemon; false when it is not (gone, or another process). */
export function signalDaemon(paths: Paths, pid: number, identity: DaemonIdentity, signal: NodeJS.Signals): boolean {
  if (!isDaemonProcess(paths, pid, identity)) return false;
  try {
    process.kill(pid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

/**
 * SIGTERM, wait up to `graceMs`, then SIGKILL; each only while `pid` is the daemon. Returns once
 * the process has exited (its pid holds no process of the daemon's name any more).
 */
export async function terminate(paths: Paths, pid: number, identity: DaemonIdentity, graceMs = 10_000): Promise<void> {
  if (!signalDaemon(paths, pid, identity, 'SIGTERM')) return;
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!stillHeldBy(paths, pid, identity.comm)) return;
    await sleep(25);
  }
  signalDaemon(paths, pid, identity, 'SIGKILL');
  while (stillHeldBy(paths, pid, identity.comm)) await sleep(25);
}

export async function removePidFiles(files: readonly string[]): Promise<void> {
  await Promise.all(files.map((f) => removeFile(f)));
}
