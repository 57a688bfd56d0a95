/**
 * @module services/daemon-logs
 * The console logs of keepalived and haproxy (`DaemonUnitSpec.logFile`) as something two parties
 * change: the rotation job truncates them (jobs/rotate-daemon-logs.ts), and the start and reload
 * waits read them from a byte offset (services/apply/daemon-health.ts: the daemon's ready or
 * "Reloading" line must come after the size before the signal). A truncation in the middle of a
 * wait would put that offset past the end and turn a good reload into a 500, so both hold the
 * log's lock (`exclusive`). Removal of an object's log takes its rotated copies too.
 * Must not: decide when to rotate (the job does) or read the logs.
 */
import { removeLog, rotateLog, type LogRotation } from '../system/log-rotation.js';
import type { Paths } from '../system/paths.js';
import { KeyedLock } from './keyed-lock.js';

/** The most rotated copies `daemon_log_keep` allows: what removal and trimming look for. */
export const MAX_LOG_GENERATIONS = 20;

export class DaemonLogs {
  private readonly lock = new KeyedLock();

  constructor(private readonly paths: Paths) {}

  /** Runs `work` while no rotation of `logFile` runs (and the other way round). */
  exclusive<T>(logFile: string, work: () => Promise<T>): Promise<T> {
    return this.lock.run(logFile, work);
  }

  /** Copy-truncate rotation with `keep` copies, under the log's lock; undefined when there is no log. */
  rotate(logFile: string, keep: number): Promise<number | undefined> {
    const rotation: LogRotation = { keep, maxGenerations: MAX_LOG_GENERATIONS, generation: (n) => this.paths.rotatedLog(logFile, n) };
    return this.exclusive(logFile, () => rotateLog(logFile, rotation));
  }

  /** Removes the log and every rotated copy of it (an object being deleted). */
  remove(logFile: string): Promise<void> {
    return this.exclusive(logFile, () => removeLog(logFile, (n) => this.paths.rotatedLog(logFile, n), MAX_LOG_GENERATIONS));
  }
}
