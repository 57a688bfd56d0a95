/**
 * @module system/init/direct
 * The `direct` adapter, for hosts whose PID 1 is no init system (containers, CI, a laptop):
 * the agent runs the namespace setup itself and starts each daemon detached, in its own
 * session, so that it outlives an agent restart. The daemon's pid file is the only state.
 * A daemon that asks for an open-file limit (haproxy) gets it raised as far as the host allows
 * (open-file-limit.ts), as its unit would under an init system.
 */
import { CommandFailed } from '../../model/errors.js';
import type { ProcessRunner } from '../exec.js';
import { pidFileState, readPid } from '../processes.js';
import type { Paths } from '../paths.js';
import { withOpenFileLimit } from './open-file-limit.js';
import { processExists, removePidFiles, terminate } from './process-signals.js';
import { reloadOf, type DaemonUnitSpec, type InitSystem } from './types.js';

export class DirectInit implements InitSystem {
  readonly kind = 'direct' as const;

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

  async uninstall(): Promise<void> {}

  async enable(): Promise<void> {}

  async disable(): Promise<void> {}

  async start(daemon: DaemonUnitSpec): Promise<void> {
    if (await this.isActive(daemon)) return;
    await removePidFiles([daemon.pidFile, ...daemon.childPidFiles]);
    await this.runner.run('/bin/sh', [daemon.netnsSetupScript]);
    const [cmd, ...args] = withOpenFileLimit(daemon.argv, daemon.nofile);
    if (cmd === undefined) throw new Error(`empty command for ${daemon.unit}`);
    await this.runner.spawnDetached(cmd, args, { logFile: daemon.logFile });
  }

  async stop(daemon: DaemonUnitSpec): Promise<void> {
    const pid = await readPid(daemon.pidFile);
    if (pid !== undefined && processExists(pid)) await terminate(pid);
    await removePidFiles([daemon.pidFile, ...daemon.childPidFiles]);
  }

  async reload(daemon: DaemonUnitSpec): Promise<void> {
    const { signal } = reloadOf(daemon);
    const pid = await readPid(daemon.pidFile);
    if (pid === undefined || !processExists(pid)) {
      const why = `${daemon.unit} is not running`;
      throw new CommandFailed(['kill', `-${signal}`, daemon.pidFile], undefined, why, why);
    }
    process.kill(pid, `SIG${signal}`);
  }

  async isActive(daemon: DaemonUnitSpec): Promise<boolean> {
    return (await pidFileState(this.paths, daemon.pidFile)) === 'alive';
  }
}
