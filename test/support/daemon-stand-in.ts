/**
 * @module test/support/daemon-stand-in
 * Processes that are a daemon as the agent judges one (system/processes.ts: its command name,
 * and `-f <config> -p <pid file>` among its arguments), for tests whose point is not the daemon:
 * - `fakeDaemonProc` writes the `comm` and `cmdline` entries of a pid under a test's proc_dir;
 * - `spawnStandIn` starts a real process: a copy of /bin/sh named after the daemon (the kernel's
 *   comm is the executable's name), idling with the daemon's `-f` and `-p` as its arguments.
 * The caller kills what it spawned.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DaemonIdentity } from '../../src/system/processes.js';

/** The argv a daemon of `identity` shows (keepalived's shape; only `-f` and `-p` are judged). */
export const standInArgv = (identity: DaemonIdentity): string[] => [identity.comm, '-f', identity.config, '-p', identity.pidFile];

export function fakeDaemonProc(procDir: string, pid: number, identity: DaemonIdentity): void {
  const dir = join(procDir, String(pid));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'comm'), `${identity.comm}\n`);
  writeFileSync(join(dir, 'cmdline'), standInArgv(identity).map((a) => `${a}\0`).join(''));
}

/** A live process that is the daemon `identity`; `binDir` holds the renamed shell. */
export function spawnStandIn(binDir: string, identity: DaemonIdentity): ChildProcess {
  mkdirSync(binDir, { recursive: true });
  const shell = join(binDir, identity.comm);
  if (!existsSync(shell)) copyFileSync('/bin/sh', shell);
  // the shell stays the process (no exec): its arguments are the daemon's
  return spawn(shell, ['-c', 'while :; do sleep 1; done', ...standInArgv(identity)], { stdio: 'ignore' });
}
