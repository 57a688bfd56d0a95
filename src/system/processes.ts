/**
 * @module system/processes
 * Processes known by their pid files: the one reader of a pid file (`readPid`), and liveness.
 * A pid file is alive only when the process its pid names is the daemon that wrote it
 * (`isDaemonProcess`): a pid number alone proves nothing once the daemon died, because the
 * kernel hands the number to the next process. The daemon is known by facts of the process
 * itself: its command name (`/proc/<pid>/comm`) and the config and pid file it was started with
 * (`-f <config>` and `-p <pid file>` in `/proc/<pid>/cmdline`; keepalived's children carry their
 * parent's arguments, haproxy's master keeps them across its re-executions). The liveness
 * scripts keepalived runs (templates/scripts/_liveness.njk) and the sysvinit scripts test the
 * same facts, so the agent, the VRRP check and the init script agree. Used for listener status,
 * details, process counts, the health waits after start and reload, every heartbeat, and before
 * any signal the agent sends by pid (system/init/process-signals.ts).
 *
 * The reads are synchronous on purpose: a pid file is a few bytes on a local file system and
 * `/proc/<pid>/comm` and `cmdline` are kernel lookups, all microseconds, while each
 * promise-based call is a round trip through libuv's thread pool. A heartbeat checks every
 * daemon's pid file, and the heartbeat bench found those round trips were a large part of its CPU.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { readIfExistsSync } from './files.js';
import type { Paths } from './paths.js';

/** What makes a process a given daemon; its children (keepalived's) share it. */
export interface DaemonIdentity {
  /** The kernel's command name (`/proc/<pid>/comm`): `keepalived`, `haproxy`. */
  readonly comm: string;
  /** The config file it was started with: `-f <config>` in its arguments. */
  readonly config: string;
  /** The main pid file it was started with: `-p <pidFile>` in its arguments. */
  readonly pidFile: string;
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
 * The one buffer every /proc read goes through. A /proc file reports size 0, so readFileSync
 * reads it into a fresh 64 KiB buffer: three per daemon per look (listener status, heartbeat,
 * reconcile), which at 200 listeners allocated about 38 MiB per heartbeat and grew the agent's
 * heap with the listener count. comm, cmdline and stat of our daemons are a few hundred bytes.
 */
const PROC_BUFFER = Buffer.allocUnsafe(16 * 1024);

/** A /proc file of a process that may be gone (ENOENT, ESRCH…) or never was: undefined. */
export function procFile(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    let length = 0;
    for (;;) {
      const n = readSync(fd, PROC_BUFFER, length, PROC_BUFFER.length - length, null);
      if (n === 0) return PROC_BUFFER.toString('latin1', 0, length);
      length += n;
      // longer than the buffer (a very long command line): read it whole, the rare way
      if (length === PROC_BUFFER.length) return readFileSync(path, 'latin1');
    }
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** Whether `option value` appears as two consecutive arguments. */
function hasOption(argv: readonly string[], option: string, value: string): boolean {
  for (let i = 0; i + 1 < argv.length; i++) if (argv[i] === option && argv[i + 1] === value) return true;
  return false;
}

/**
 * Whether the process `pid` is the daemon `identity` names: its command name, and `-f <config>`
 * and `-p <pidFile>` among its arguments. A gone process, a zombie (no arguments left) or any
 * other program holding the pid is not.
 */
export function isDaemonProcess(paths: Paths, pid: number, identity: DaemonIdentity): boolean {
  const dir = paths.proc(pid);
  if (procFile(`${dir}/comm`)?.trimEnd() !== identity.comm) return false;
  const cmdline = procFile(`${dir}/cmdline`) ?? '';
  // No arguments with the daemon's name: a zombie, or a process in the middle of execve (haproxy's
  // master re-executes itself on every reload, and its arguments read empty for that moment).
  if (cmdline === '') return !isZombie(procFile(`${dir}/stat`));
  const argv = cmdline.split('\0');
  return hasOption(argv, '-f', identity.config) && hasOption(argv, '-p', identity.pidFile);
}

/** `/proc/<pid>/stat`'s state (the word after the command's closing parenthesis) is Z or X, or there is no stat. */
function isZombie(stat: string | undefined): boolean {
  if (stat === undefined) return true;
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state === 'Z' || state === 'X' || state === '';
}

/**
 * Whether `pid` still holds a process with the daemon's command name: the daemon, or the daemon
 * exiting (its arguments are gone once it released its memory, its comm stays until it is
 * reaped). Once the daemon was seen (`isDaemonProcess`), this says when it has really exited:
 * its pid can be reused only after that.
 */
export function stillHeldBy(paths: Paths, pid: number, comm: string): boolean {
  return procFile(`${paths.proc(pid)}/comm`)?.trimEnd() === comm;
}

/**
 * True when the pid file names a pid that is no longer the daemon: it wrote its pid and died
 * (the pid may already be another process's). A missing, empty or half-written pid file (a
 * daemon still starting) is not that.
 */
export async function diedAfterWritingPid(paths: Paths, pidFile: string, identity: DaemonIdentity): Promise<boolean> {
  const pid = await readPid(pidFile);
  if (pid === undefined) return false;
  return !isDaemonProcess(paths, pid, identity);
}

/** `pidFile`: the daemon's main pid file or one of its children's, all of them `identity`. */
export async function pidFileState(paths: Paths, pidFile: string, identity: DaemonIdentity): Promise<PidFileState> {
  const text = readIfExistsSync(pidFile);
  if (text === undefined) return 'absent';
  const pid = parsePid(text);
  if (pid === undefined) return 'stale';
  return isDaemonProcess(paths, pid, identity) ? 'alive' : 'stale';
}
