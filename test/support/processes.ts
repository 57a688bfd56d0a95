/**
 * @module test/support/processes
 * Facts about a process read from /proc (state, comm, argv, network namespace, a pid file),
 * and ending or starting one by pid: a quiet kill, a crash that waits for the reap, a detached
 * process with its log. Only ever pointed at a test's own processes; it never looks a process
 * up by name.
 */
import { spawn } from 'node:child_process';
import { open, readFile, readlink } from 'node:fs/promises';
import { waitFor } from './wait-for.js';

/** The process state letter from /proc/<pid>/stat, or undefined when there is no such process. */
export async function procState(pid: number): Promise<string | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ')[0];
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ESRCH') return undefined;
    throw err;
  }
}

/** Exists and is not a zombie. */
export function isRunning(pid: number): Promise<boolean> {
  return procState(pid).then((s) => s !== undefined && s !== 'Z' && s !== 'X');
}

/** Gone from /proc altogether (reaped). */
export async function isGone(pid: number): Promise<boolean> {
  return (await procState(pid)) === undefined;
}

export async function procComm(pid: number): Promise<string | undefined> {
  return readFile(`/proc/${pid}/comm`, 'utf8').then(
    (t) => t.trim(),
    () => undefined,
  );
}

export async function procCmdline(pid: number): Promise<string[]> {
  return readFile(`/proc/${pid}/cmdline`, 'utf8').then(
    (t) => t.split('\0').filter(Boolean),
    () => [],
  );
}

/** The inode of a process's network namespace (`net:[inode]`), undefined when it is gone. */
export async function processNetnsInode(pid: number): Promise<number | undefined> {
  try {
    const link = await readlink(`/proc/${pid}/ns/net`);
    const m = /^net:\[(\d+)\]$/.exec(link);
    return m?.[1] === undefined ? undefined : Number(m[1]);
  } catch {
    return undefined;
  }
}

export async function readPidFile(file: string): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(file, 'utf8')).trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/** SIGKILL and wait until the process is reaped (its pid file stays behind, as after a crash). */
export async function crash(pid: number): Promise<void> {
  killQuietly(pid, 'SIGKILL');
  await waitFor(`pid ${pid} to be reaped after SIGKILL`, () => isGone(pid), 30_000);
}

export interface Detached {
  readonly pid: number;
  stop(): Promise<void>;
}

/** Starts a command detached (its own session), stdout and stderr appended to `logFile`; stopped by pid. */
export async function spawnDetachedProcess(cmd: string, args: readonly string[], logFile: string): Promise<Detached> {
  const log = await open(logFile, 'a');
  try {
    const child = spawn(cmd, [...args], { detached: true, stdio: ['ignore', log.fd, log.fd] });
    const pid = child.pid;
    if (pid === undefined) throw new Error(`could not start ${cmd}`);
    child.unref();
    return {
      pid,
      stop: async () => {
        killQuietly(pid, 'SIGTERM');
        await waitFor(`pid ${pid} to exit`, async () => !(await isRunning(pid)), 10_000).catch(() => killQuietly(pid, 'SIGKILL'));
      },
    };
  } finally {
    await log.close();
  }
}
