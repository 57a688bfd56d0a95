/**
 * @module system/init/types
 * The InitSystem seam: one interface, one adapter per init kind (systemd, sysvinit, upstart,
 * and `direct`, where the agent supervises the daemon itself), and the specs the adapters are
 * given: a daemon unit and the namespace unit every daemon requires. No code outside
 * system/init branches on the init kind. Unit texts are rendered by render/init-units.ts; an
 * adapter is handed that renderer (`UnitRenderer`), so that system/ never imports render/.
 */
import type { DaemonIdentity } from '../processes.js';

export type InitKind = 'systemd' | 'sysvinit' | 'upstart' | 'direct';
export const INIT_KINDS: readonly InitKind[] = ['systemd', 'sysvinit', 'upstart', 'direct'];

/** The init kinds whose units are files the agent writes. */
export type UnitInitKind = Exclude<InitKind, 'direct'>;

/** Signals a daemon may be reloaded with (names without SIG, as kill(1) takes them). */
export type ReloadSignal = 'HUP' | 'USR2';
export const RELOAD_SIGNALS: readonly ReloadSignal[] = ['HUP', 'USR2'];

/** How a running daemon is told to re-read its config, and how it says it did. */
export interface ReloadProtocol {
  readonly signal: ReloadSignal;
  /** A line the daemon logs once it has acted on the signal. */
  readonly acknowledged: RegExp;
  /** A line the daemon logs when the reload failed and the old config keeps running, or null. */
  readonly failed: RegExp | null;
}

/** keepalived: SIGHUP, then "Reloading ..." in its console output. */
export const KEEPALIVED_RELOAD: ReloadProtocol = { signal: 'HUP', acknowledged: /Reloading/, failed: null };

export interface DaemonUnitSpec {
  /** Service name, e.g. octavia-keepalivedlvs-<id>. */
  readonly unit: string;
  readonly description: string;
  /** The foreground command, already prefixed with `ip netns exec <ns>` where needed. */
  readonly argv: readonly string[];
  readonly pidFile: string;
  /**
   * What makes a process this daemon (command name, `-f <config>`, `-p <pidFile>`): liveness
   * and every signal sent by pid check it (system/processes.ts), so a reused pid is not the daemon.
   */
  readonly identity: DaemonIdentity;
  /** Pid files of the daemon's children, removed with a stale main pid file. */
  readonly childPidFiles: readonly string[];
  readonly logFile: string;
  readonly netnsUnit: string;
  readonly netnsSetupScript: string;
  /** Reload signal and acknowledgement; keepalived's (KEEPALIVED_RELOAD) when absent. */
  readonly reload?: ReloadProtocol;
  /**
   * A line the daemon logs once it serves after a start (past the log's size before the start),
   * waited for before the settle time; none when absent (keepalived).
   */
  readonly ready?: RegExp;
  /**
   * The open-file limit (RLIMIT_NOFILE, soft and hard) the daemon is started with, as far as the
   * host allows: every adapter raises it best effort and never fails a start only because the
   * raise was refused (the daemon then says what it lacks). None when absent (the inherited limit).
   */
  readonly nofile?: number;
  /**
   * The daemon's scheduling niceness (-20..19), inherited by every process it starts (keepalived's
   * check scripts). Inherited from the adapter when absent. See KEEPALIVED_NICE (services/daemon-specs.ts).
   */
  readonly nice?: number;
}

/** A daemon's reload protocol; keepalived's when the spec names none. */
export const reloadOf = (spec: DaemonUnitSpec): ReloadProtocol => spec.reload ?? KEEPALIVED_RELOAD;

export interface NetnsUnitSpec {
  readonly unit: string;
  readonly namespace: string;
  readonly setupScript: string;
}

/** How the process an adapter started for a daemon ended: its exit code, or the signal that killed it. */
export interface DaemonExit {
  readonly exitCode: number | null;
  readonly signal: string | null;
}

/** "exit code 1", "signal SIGKILL": for error messages. */
export function describeExit(exit: DaemonExit): string {
  if (exit.signal !== null) return `signal ${exit.signal}`;
  return exit.exitCode === null ? 'unknown status' : `exit code ${exit.exitCode}`;
}

/** Renders unit texts for the file-based init systems (render/init-units.ts; wired in main). */
export interface UnitRenderer {
  daemon(kind: UnitInitKind, spec: DaemonUnitSpec): string;
  netns(kind: UnitInitKind, spec: NetnsUnitSpec): string;
}

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
  /** Asks the running daemon to re-read its configuration: the spec's reload signal (SIGHUP for keepalived, SIGUSR2 for haproxy). */
  reload(daemon: DaemonUnitSpec): Promise<void>;
  isActive(daemon: DaemonUnitSpec): Promise<boolean>;
  /**
   * Optional capability of an adapter that spawns the daemon itself (`direct`): how the process
   * its latest `start` spawned for this daemon ended, once it has ended; undefined while it runs,
   * or when the adapter did not spawn the running process (a start that found it running, an
   * agent restart). Every daemon runs in the foreground of its supervisor (keepalived
   * `--dont-fork`, haproxy `-W -db`), so that process's exit is the daemon's death: the start and
   * reload waits end at once on it instead of waiting for a pid file until their timeout.
   * Adapters whose init system keeps the process to itself (systemd, sysvinit, upstart) leave it
   * out; the waits then rely on pid files alone.
   */
  exited?(daemon: DaemonUnitSpec): DaemonExit | undefined;
  /** Paths of the files `install` writes for this daemon (for tests and diagnostics). */
  unitFiles(daemon: DaemonUnitSpec, netns: NetnsUnitSpec): string[];
}
