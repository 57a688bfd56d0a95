/**
 * @module system/init/direct
 * The `direct` adapter, for hosts whose PID 1 is no init system (containers, CI, a laptop):
 * the agent runs the namespace setup itself and starts each daemon detached, in its own
 * session, so that it outlives an agent restart. The daemon's pid file is the only lasting
 * state; while the agent runs it also knows when a process it spawned exits (`exited`), which
 * ends a start's wait at once when the daemon dies before it writes its pid file.
 * A daemon that asks for an open-file limit (haproxy) gets it raised as far as the host allows
 * (open-file-limit.ts), as its unit would under an init system.
 */
import { CommandFailed } from '../../model/errors.js';
import type { ProcessRunner } from '../exec.js';
import { pidFileState } from '../processes.js';
import type { Paths } from '../paths.js';
import { withOpenFileLimit } from './open-file-limit.js';
import { daemonPid, removePidFiles, signalDaemon, terminate } from './process-signals.js';
import { reloadOf, type DaemonExit, type DaemonUnitSpec, type InitSystem } from './types.js';

/** The process the latest start spawned for a unit; `exit` is set when it ends. */
interface Spawned {
  exit?: DaemonExit;
}

export class DirectInit implements InitSystem {
  readonly kind = 'direct' as const;
  /** By unit name: only the latest start's process, so an earlier one's exit never speaks for it. */
  private readonly spawned = new Map<string, Spawned>();

  constructor(
    private readonly runner: ProcessRunner,
    private readonly paths: Paths,
  ) {}

  unitFiles(): string[] {
    return [];
  }

  async install(): Promise<boolean> {
    return false;
  }

  /** Nothing on disk; the unit's process record goes (a failed new object's is read already). */
  async uninstall(daemon: DaemonUnitSpec): Promise<void> {
    this.spawned.delete(daemon.unit);
  }

  async enable(): Promise<void> {}

  async disable(): Promise<void> {}

  async start(daemon: DaemonUnitSpec): Promise<void> {
    if (await this.isActive(daemon)) {
      // the running process may not be the one this agent spawned last: say nothing about it
      this.spawned.delete(daemon.unit);
      return;
    }
    await removePidFiles([daemon.pidFile, ...daemon.childPidFiles]);
    await this.runner.run('/bin/sh', [daemon.netnsSetupScript]);
    // nice(1) execs in place like the rest, so the niceness reaches the daemon and its children
    const argv = daemon.nice === undefined ? daemon.argv : ['nice', '-n', String(daemon.nice), ...daemon.argv];
    const [cmd, ...args] = withOpenFileLimit(argv, daemon.nofile);
    if (cmd === undefined) throw new Error(`empty command for ${daemon.unit}`);
    // `ip netns exec`, nice and the open-file wrapper exec in place: the spawned pid is the daemon's
    const spawned: Spawned = {};
    this.spawned.set(daemon.unit, spawned);
    try {
      await this.runner.spawnDetached(cmd, args, { logFile: daemon.logFile, onExit: (exit) => (spawned.exit = exit) });
    } catch (err) {
      this.spawned.delete(daemon.unit);
      throw err;
    }
  }

  exited(daemon: DaemonUnitSpec): DaemonExit | undefined {
    return this.spawned.get(daemon.unit)?.exit;
  }

  async stop(daemon: DaemonUnitSpec): Promise<void> {
    // a stopped daemon did not die: its exit is no failure to report
    this.spawned.delete(daemon.unit);
    // only the daemon itself: the pid of a daemon that died may be any other process's now
    const pid = await daemonPid(this.paths, daemon.pidFile, daemon.identity);
    if (pid !== undefined) await terminate(this.paths, pid, daemon.identity);
    await removePidFiles([daemon.pidFile, ...daemon.childPidFiles]);
  }

  async reload(daemon: DaemonUnitSpec): Promise<void> {
    const { signal } = reloadOf(daemon);
    const pid = await daemonPid(this.paths, daemon.pidFile, daemon.identity);
    if (pid === undefined || !signalDaemon(this.paths, pid, daemon.identity, `SIG${signal}`)) {
      const why = `${daemon.unit} is not running`;
      throw new CommandFailed(['kill', `-${signal}`, daemon.pidFile], undefined, why, why);
    }
  }

  async isActive(daemon: DaemonUnitSpec): Promise<boolean> {
    return (await pidFileState(this.paths, daemon.pidFile, daemon.identity)) === 'alive';
  }
}
