/**
 * @module test/support/init-case-harness
 * The contract between the InitSystem cases (test/support/init-system-cases.ts) and the runners
 * that call them: what a target says about its implementation (InitCaseTarget), and the harness
 * its setup hands the cases (InitHarness), with the daemons it makes and how a case watches their
 * processes (ProcessWatch). Types, and the daemon kinds every runner makes; no case lives here.
 */
import type { DaemonUnitSpec, InitSystem, NetnsUnitSpec } from '../../src/system/init/types.js';

/** keepalived and haproxy specs, as services/daemon-specs.ts makes them. */
export type DaemonKind = 'keepalived' | 'haproxy';
export const DAEMON_KINDS: readonly DaemonKind[] = ['keepalived', 'haproxy'];

export interface ProcessFacts {
  /** Exists and is not a zombie. */
  readonly alive: boolean;
  readonly comm: string | undefined;
  /** The inode of its network namespace; undefined where processes are not real. */
  readonly netnsInode: number | undefined;
}

/** How a case watches the daemons an implementation runs. */
export interface ProcessWatch {
  /** Resolves once a started daemon has logged (past `since`) that it is up and takes signals. */
  ready(spec: DaemonUnitSpec, since: number): Promise<void>;
  facts(pid: number): Promise<ProcessFacts>;
  /** The namespace every daemon must run in; undefined where processes are not real. */
  readonly namespaceInode: number | undefined;
  /** Live processes (main and children) still running the daemon's command line. */
  leftovers?(spec: DaemonUnitSpec): Promise<number[]>;
  /** A spec of this kind whose command is a probe that logs `got SIG<name>` for HUP and USR2, and `probe ready`. */
  probe?(kind: DaemonKind): Promise<DaemonUnitSpec>;
}

export interface InitHarness {
  readonly init: InitSystem;
  readonly netns: NetnsUnitSpec;
  /** A new daemon of this kind (unique unit), with a config it runs on. */
  daemon(kind: DaemonKind): Promise<DaemonUnitSpec>;
  /** The mode of the unit files; undefined when the implementation writes none. */
  readonly unitMode: number | undefined;
  /** How often the adapter has told its init system to re-read units; absent when it has no such step. */
  managerReloads?(): number;
  /** Whether the init system itself runs on the units as they are on disk (systemd: NeedDaemonReload=no). */
  unitsCurrent?(spec: DaemonUnitSpec): Promise<boolean>;
  /** undefined: this run covers the unit files only. */
  readonly processes: ProcessWatch | undefined;
  teardown(): Promise<void>;
}

export interface InitCaseTarget {
  readonly name: string;
  /** Why this implementation cannot run on this machine (printed), or undefined. */
  readonly skip: string | undefined;
  /** Writes unit files (systemd, sysvinit, upstart); false for `direct` and FakeInit. */
  readonly unitFiles: boolean;
  /** Starts, reloads and stops daemons (false: only the unit-file cases run). */
  readonly lifecycle: boolean;
  /** Its daemons are real processes, so the signal probe can tell which signal a reload sent. */
  readonly signalProbe: boolean;
  setup(): Promise<InitHarness>;
}
