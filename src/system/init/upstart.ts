/**
 * @module system/init/upstart
 * upstart adapter: job files in `upstart_dir`, initctl for everything else. Jobs start on
 * their `start on` stanza at boot, so enabling is implicit.
 */
import type { ProcessRunner } from '../exec.js';
import type { Paths } from '../paths.js';
import type { DaemonUnitSpec, InitSystem, NetnsUnitSpec, UnitRenderer } from './types.js';
import { removeUnit, unitFilesOf, writeUnits, type UnitLocation } from './unit-files.js';

export class UpstartInit implements InitSystem {
  readonly kind = 'upstart' as const;
  private readonly loc: UnitLocation;

  constructor(
    private readonly runner: ProcessRunner,
    paths: Paths,
    render: UnitRenderer,
  ) {
    this.loc = { kind: 'upstart', path: paths.upstartJob, mode: 0o644, render };
  }

  unitFiles(daemon: DaemonUnitSpec, netns: NetnsUnitSpec): string[] {
    return unitFilesOf(this.loc, daemon, netns);
  }

  async install(daemon: DaemonUnitSpec, netns: NetnsUnitSpec): Promise<boolean> {
    const changed = await writeUnits(this.loc, daemon, netns);
    if (changed) await this.runner.run('initctl', ['reload-configuration']);
    return changed;
  }

  uninstall(daemon: DaemonUnitSpec): Promise<void> {
    return removeUnit(this.loc, daemon);
  }

  async enable(): Promise<void> {}

  async disable(): Promise<void> {}

  async start(daemon: DaemonUnitSpec): Promise<void> {
    // initctl start fails on a running job ("Job is already running"); systemctl and the LSB scripts do not
    if (await this.isActive(daemon)) return;
    await this.runner.run('initctl', ['start', daemon.unit]);
  }

  async stop(daemon: DaemonUnitSpec): Promise<void> {
    if (await this.isActive(daemon)) await this.runner.run('initctl', ['stop', daemon.unit]);
  }

  async reload(daemon: DaemonUnitSpec): Promise<void> {
    await this.runner.run('initctl', ['reload', daemon.unit]);
  }

  async isActive(daemon: DaemonUnitSpec): Promise<boolean> {
    const r = await this.runner.run('initctl', ['status', daemon.unit], { allowFailure: true });
    return r.exitCode === 0 && r.stdout.includes('start/running');
  }
}
