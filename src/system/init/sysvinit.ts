/**
 * @module system/init/sysvinit
 * sysvinit adapter: LSB scripts in `sysvinit_dir`, run directly (`<script> start`), so that
 * they work from any directory. Boot-time links are made with update-rc.d only for the
 * system's own /etc/init.d.
 */
import type { Logger } from '../../log.js';
import type { ProcessRunner } from '../exec.js';
import type { Paths } from '../paths.js';
import type { DaemonUnitSpec, InitSystem, NetnsUnitSpec, UnitRenderer } from './types.js';
import { removeUnit, unitFilesOf, writeUnits, type UnitLocation } from './unit-files.js';

const SYSTEM_DIR = '/etc/init.d';

export class SysvInit implements InitSystem {
  readonly kind = 'sysvinit' as const;
  private readonly loc: UnitLocation;

  constructor(
    private readonly runner: ProcessRunner,
    paths: Paths,
    private readonly dir: string,
    private readonly log: Logger,
    render: UnitRenderer,
  ) {
    this.loc = { kind: 'sysvinit', path: paths.sysvinitScript, mode: 0o755, render };
  }

  private script(daemon: DaemonUnitSpec, action: string) {
    return this.runner.run(this.loc.path(daemon.unit), [action]);
  }

  unitFiles(daemon: DaemonUnitSpec, netns: NetnsUnitSpec): string[] {
    return unitFilesOf(this.loc, daemon, netns);
  }

  install(daemon: DaemonUnitSpec, netns: NetnsUnitSpec): Promise<boolean> {
    return writeUnits(this.loc, daemon, netns);
  }

  uninstall(daemon: DaemonUnitSpec): Promise<void> {
    return removeUnit(this.loc, daemon);
  }

  async enable(daemon: DaemonUnitSpec, netns: NetnsUnitSpec): Promise<void> {
    if (this.dir !== SYSTEM_DIR) {
      this.log.debug({ dir: this.dir }, 'not the system init.d: boot links are not made');
      return;
    }
    await this.runner.run('update-rc.d', [netns.unit, 'defaults']);
    await this.runner.run('update-rc.d', [daemon.unit, 'defaults']);
  }

  async disable(daemon: DaemonUnitSpec): Promise<void> {
    if (this.dir !== SYSTEM_DIR) return;
    await this.runner.run('update-rc.d', ['-f', daemon.unit, 'remove'], { allowFailure: true });
  }

  async start(daemon: DaemonUnitSpec): Promise<void> {
    await this.script(daemon, 'start');
  }

  async stop(daemon: DaemonUnitSpec): Promise<void> {
    await this.script(daemon, 'stop');
  }

  async reload(daemon: DaemonUnitSpec): Promise<void> {
    await this.script(daemon, 'reload');
  }

  async isActive(daemon: DaemonUnitSpec): Promise<boolean> {
    const r = await this.runner.run(this.loc.path(daemon.unit), ['status'], { allowFailure: true });
    return r.exitCode === 0;
  }
}
