/**
 * @module services/haproxy-server-state
 * The server states a load balancer's haproxy keeps across reloads, as the reference keeps them:
 * just before a running haproxy is reloaded, the answer of `show servers state` on its stats
 * socket is written to `<base>/<lb>/servers-state`, and the config's `server-state-file` (global)
 * with `load-server-state-from-file global` (in each health-checked backend) makes the new
 * process start every server as the old one left it: a member its checks found DOWN stays DOWN,
 * a drained one stays drained, instead of all starting UP and taking traffic until their checks
 * fail again.
 *
 * Best effort, as in the reference: a failure is logged and the reload goes on. Unlike the
 * reference, a failed save also removes the previous file, so the new process starts from the
 * config (the old behaviour) rather than from states saved at an earlier reload; and before a
 * start the file is replaced by one without states: a stopped or crashed haproxy's states may
 * be long out of date, and haproxy finds the file it is told to read (no "Can't open" warning).
 *
 * The agent writes only that one file, inside the load balancer's directory. An uploaded config
 * whose `server-state-file` names any other path is run as it is, but gets no saved states: the
 * directory also holds the config, its staged copies, the log and the pid file, and a path taken
 * from a request must never choose what the agent overwrites.
 */
import type { Logger } from '../log.js';
import { haproxyServerStateFile } from '../model/haproxy-config.js';
import type { Uuid } from '../model/uuid.js';
import { removeFile, writeFileAtomic } from '../system/files.js';
import { haproxySocketCommand } from '../system/haproxy-socket.js';
import type { Paths } from '../system/paths.js';

/** The state file format haproxy 1.6 to 3.x writes and reads: its first line is the version, 1. */
const STATE_FILE = /^1\n/;

/** What the reference writes too: only root (haproxy's master re-reads it as root) may read it. */
const STATE_FILE_MODE = 0o600;

export interface ServerStateDeps {
  readonly paths: Paths;
  readonly log: Logger;
  /** How long haproxy may take to answer, in milliseconds (the live `process_ready_timeout`). */
  readonly timeoutMs: () => number;
}

/**
 * Whether an uploaded config reads the load balancer's servers-state file (its global
 * `server-state-file` names exactly that file). Any other file named there is logged and left
 * alone: haproxy will not find saved states in it, as before.
 */
export function readsServerState(deps: ServerStateDeps, lbId: Uuid, text: string): boolean {
  const named = haproxyServerStateFile(text);
  const ours = deps.paths.haproxyServersState(lbId);
  if (named === undefined || named === ours) return named === ours;
  deps.log.warn(
    { lbId, serverStateFile: named, expected: ours },
    'the uploaded haproxy config reads server states from a file the agent does not write: server states will not be kept across reloads',
  );
  return false;
}

/**
 * Saves the running haproxy's server states for its next process to read. Never throws: a
 * failure is logged and the stale file removed, and the reload goes on.
 */
export async function saveServerState(deps: ServerStateDeps, lbId: Uuid): Promise<void> {
  const { paths, log } = deps;
  const file = paths.haproxyServersState(lbId);
  try {
    const answer = await haproxySocketCommand(paths.haproxyStatsSocket(lbId), 'show servers state', { timeoutMs: deps.timeoutMs() });
    if (!STATE_FILE.test(answer)) throw new Error(`haproxy did not answer with server states: ${JSON.stringify(answer.slice(0, 200))}`);
    await writeFileAtomic(file, answer, STATE_FILE_MODE);
  } catch (err) {
    log.warn({ err, lbId }, 'could not save the server states of haproxy before its reload; its servers start as the config says');
    await removeFile(file).catch((e: unknown) => log.warn({ err: e, file }, 'could not remove the stale server-state file'));
  }
}

/** An empty state file: the version line, no servers (haproxy then takes every server from its config). */
const NO_STATES = '1\n';

/** Before a start: no states; before a reload: the running haproxy's. Never throws. */
export async function prepareServerState(deps: ServerStateDeps, lbId: Uuid, how: 'start' | 'reload'): Promise<void> {
  if (how === 'reload') return saveServerState(deps, lbId);
  const file = deps.paths.haproxyServersState(lbId);
  await writeFileAtomic(file, NO_STATES, STATE_FILE_MODE).catch((err: unknown) => {
    deps.log.warn({ err, lbId }, 'could not empty the server-state file before starting haproxy');
    return removeFile(file).catch((e: unknown) => deps.log.warn({ err: e, file }, 'could not remove the stale server-state file'));
  });
}

/** Removes the file with its load balancer. */
export async function removeServerState(paths: Paths, lbId: Uuid): Promise<void> {
  await removeFile(paths.haproxyServersState(lbId));
}
