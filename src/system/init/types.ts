/**
 * @module system/init/types
 * The InitSystem seam: one interface, one adapter per init kind (systemd, sysvinit, upstart,
 * and `direct`, where the agent supervises the daemon itself). No code outside system/init
 * branches on the init kind.
 */
import type { DaemonUnitSpec, NetnsUnitSpec, ReloadProtocol, ReloadSignal } from '../../render/init-units.js';

export type InitKind = 'systemd' | 'sysvinit' | 'upstart' | 'direct';
export const INIT_KINDS: readonly InitKind[] = ['systemd', 'sysvinit', 'upstart', 'direct'];

export type { DaemonUnitSpec, NetnsUnitSpec, ReloadProtocol, ReloadSignal };

export interface InitSystem {
  readonly kind: InitKind;
  /**
   * Writes the namespace unit and the daemon's unit, each only when its content would change.
   * Returns true when something was written.
   */
  install(daemon: DaemonUnitSpec, netns: NetnsUnitSpec): Promise<boolean>;
  /** Removes the daemon's unit; a unit that is already gone is fine. */
  uninstall(daemon: DaemonUnitSpec): Promise<void>;
  enable(daemon: DaemonUnitSpec, netns: NetnsUnitSpec): Promise<void>;
  disable(daemon: DaemonUnitSpec): Promise<void>;
  start(daemon: DaemonUnitSpec): Promise<void>;
  stop(daemon: DaemonUnitSpec): Promise<void>;
  restart(daemon: DaemonUnitSpec): Promise<void>;
  /** Asks the running daemon to re-read its configuration: the spec's reload signal (SIGHUP for keepalived, SIGUSR2 for haproxy). */
  reload(daemon: DaemonUnitSpec): Promise<void>;
  isActive(daemon: DaemonUnitSpec): Promise<boolean>;
  /** Paths of the files `install` writes for this daemon (for tests and diagnostics). */
  unitFiles(daemon: DaemonUnitSpec, netns: NetnsUnitSpec): string[];
}
