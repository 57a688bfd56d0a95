/**
 * @module services/apply/staged-apply
 * The one way a daemon's config is changed, for every daemon (an LVS listener's keepalived,
 * the VRRP keepalived, a load balancer's haproxy):
 *
 *   stage `<config>.new` → validate it with the real binary → rename it over `<config>` →
 *   install and enable the unit → [start or reload, and wait for the proof] → commit
 *
 * A refused config stays as `<config>.new-failed` for the operator and nothing else changes
 * (400). A failure after the rename rolls back: the previous config is put back (or removed
 * when there was none) and, for an object that did not exist before, its unit, process and pid
 * files go too. `commit` (state and check scripts) runs last, so a failed apply never records
 * anything. A config whose content hash is the installed one is not staged nor validated again.
 * API 1.0 uploads install only; their start/reload routes call `activate`. `check` validates
 * without installing (API 2.0's validate).
 */
import { randomUUID } from 'node:crypto';
import { rename } from 'node:fs/promises';
import type { Logger } from '../../log.js';
import { AgentError, ConfigRejected } from '../../model/errors.js';
import { exists, prepareLogFile, readIfExists, removeFile, writeFileAtomic } from '../../system/files.js';
import { removePidFiles } from '../../system/init/process-signals.js';
import type { DaemonUnitSpec, InitSystem, NetnsUnitSpec } from '../../system/init/types.js';
import type { Paths } from '../../system/paths.js';
import { pidFileState } from '../../system/processes.js';
import type { DaemonLogs } from '../daemon-logs.js';
import type { AmphoraNamespace } from '../namespace.js';
import { startOrReload } from './daemon-health.js';
import type { StartProof } from './start-proof.js';
import type { Validator } from './validators.js';

/**
 * Runs just before a daemon is started or signalled to reload; must not throw (haproxy's
 * server-state file is best effort).
 */
export type BeforeActivate = (how: 'start' | 'reload') => Promise<void>;

/** What an apply did: installed only, started a stopped daemon, reloaded a running one, or nothing (running with this config). */
export type ApplyOutcome = 'installed' | 'started' | 'reloaded' | 'unchanged';

export interface ApplyRequest {
  readonly daemon: DaemonUnitSpec;
  /** The file the daemon reads. */
  readonly config: string;
  readonly text: string;
  /** contentHash(text). */
  readonly hash: string;
  readonly validate: Validator;
  /** The content hash of what `config` holds, as the state recorded it (null: nothing, or unknown). */
  readonly installedHash: string | null;
  /** Nothing of this object exists yet: a failure leaves no unit, process or pid file behind. */
  readonly isNew: boolean;
  /**
   * Start or reload after installing (API 2.0, haproxy). `appliedHash`: what the running daemon
   * loaded; a running daemon with this hash is left alone. `children`: pid files that must be
   * alive besides the main one. Absent: install only (API 1.0 uploads).
   */
  readonly activate?: { readonly appliedHash: string | null; readonly children: readonly string[]; readonly beforeActivate?: BeforeActivate | undefined; readonly proof?: StartProof | undefined };
  /** The config file's mode; 0644 when absent (haproxy's: 0600, as the reference writes it). */
  readonly mode?: number;
  /** Records the outcome (state, check scripts). A failure here rolls the apply back too. */
  readonly commit: (outcome: ApplyOutcome) => Promise<void>;
}

export interface StagedApplyDeps {
  readonly init: InitSystem;
  readonly paths: Paths;
  readonly namespace: AmphoraNamespace;
  readonly netnsUnit: () => NetnsUnitSpec;
  /** `[amphora_agent] process_settle_seconds`, read live, in milliseconds. */
  readonly settleMs: () => number;
  /** `[amphora_agent] process_ready_timeout`, read live, in milliseconds. */
  readonly readyTimeoutMs: () => number;
  /** The waits read the daemon's log from an offset: no rotation may truncate it meanwhile. */
  readonly logs: DaemonLogs;
  readonly log: Logger;
}

/** What `config` held before a replacement, to put back on failure; `replaced: false` when it was not touched. */
type Previous = { readonly replaced: false } | { readonly replaced: true; readonly text: string | undefined };

export class StagedApply {
  constructor(private readonly deps: StagedApplyDeps) {}

  async apply(req: ApplyRequest): Promise<ApplyOutcome> {
    const { init } = this.deps;
    // keepalived --config-test checks nothing in a missing namespace, and daemons start in it
    await this.deps.namespace.ensure();
    const same = req.installedHash === req.hash && (await exists(req.config));
    const previous: Previous = same ? { replaced: false } : { replaced: true, text: await this.replace(req) };
    try {
      await init.install(req.daemon, this.deps.netnsUnit());
      await init.enable(req.daemon, this.deps.netnsUnit());
      let outcome: ApplyOutcome = 'installed';
      if (req.activate !== undefined) {
        const running = await init.isActive(req.daemon);
        outcome = running && req.activate.appliedHash === req.hash ? 'unchanged' : await this.startOrReload(req.daemon, req.activate.children, running, req.activate.beforeActivate, req.activate.proof);
      }
      await req.commit(outcome);
      return outcome;
    } catch (err) {
      await this.rollBack(req, previous);
      throw err;
    }
  }

  /** Starts a stopped daemon or reloads a running one, and answers once it proves it serves. */
  async activate(daemon: DaemonUnitSpec, children: readonly string[], running: boolean, beforeActivate?: BeforeActivate | undefined, proof?: StartProof | undefined): Promise<'started' | 'reloaded'> {
    await this.deps.namespace.ensure();
    return this.startOrReload(daemon, children, running, beforeActivate, proof);
  }

  /**
   * `apply` has made sure of the namespace already. Before a start, the daemon's console log is
   * made a regular file without following a link (issue 14, fault 10): every init system then
   * opens it as root for the daemon.
   */
  private async startOrReload(daemon: DaemonUnitSpec, children: readonly string[], running: boolean, beforeActivate?: BeforeActivate | undefined, proof?: StartProof | undefined): Promise<'started' | 'reloaded'> {
    const { paths, init } = this.deps;
    const settleMs = this.deps.settleMs();
    const timeoutMs = this.deps.readyTimeoutMs();
    if (!running) await prepareLogFile(daemon.logFile).catch((err: unknown) => Promise.reject(new AgentError('internal', 500, `cannot start ${daemon.unit}: ${(err as Error).message}`, undefined, err)));
    return this.deps.logs.exclusive(daemon.logFile, () => startOrReload(paths, init, { daemon, children, running, settleMs, timeoutMs, beforeActivate, proof }));
  }

  /** Validates `text` on a throw-away copy beside `target`; installs nothing (API 2.0 `validate`). */
  async check(target: string, text: string, validate: Validator): Promise<void> {
    await this.deps.namespace.ensure();
    const copy = this.deps.paths.scratchConfig(target, randomUUID());
    await writeFileAtomic(copy, text, 0o644);
    try {
      await validate(copy);
    } finally {
      await removeFile(copy);
    }
  }

  /** Stage, validate, rename; returns what the config held before. */
  private async replace(req: ApplyRequest): Promise<string | undefined> {
    const staged = this.deps.paths.stagedConfig(req.config);
    await writeFileAtomic(staged, req.text, req.mode ?? 0o644);
    try {
      await req.validate(staged);
    } catch (err) {
      if (err instanceof ConfigRejected) await rename(staged, this.deps.paths.rejectedConfig(req.config));
      else await removeFile(staged);
      throw err;
    }
    const before = await readIfExists(req.config);
    await rename(staged, req.config);
    return before;
  }

  private async rollBack(req: ApplyRequest, previous: Previous): Promise<void> {
    const { init, paths, log } = this.deps;
    if (previous.replaced) {
      if (previous.text === undefined) await removeFile(req.config);
      else await writeFileAtomic(req.config, previous.text, req.mode ?? 0o644);
    }
    if (!req.isNew) return;
    // an object that never existed leaves no unit, process or pid file behind
    const unit = req.daemon.unit;
    const bestEffort = (what: string) => (err: unknown) => log.warn({ err, unit }, `rolling back a failed apply: could not ${what}`);
    if ((await pidFileState(paths, req.daemon.pidFile, req.daemon.identity)) === 'alive') await init.stop(req.daemon).catch(bestEffort('stop the daemon'));
    await removePidFiles([req.daemon.pidFile, ...req.daemon.childPidFiles]);
    await init.disable(req.daemon).catch(bestEffort('disable the unit'));
    await init.uninstall(req.daemon).catch(bestEffort('remove the unit'));
  }
}
