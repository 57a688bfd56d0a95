/**
 * @module services/namespace
 * The amphora network namespace every daemon runs in. Its setup script (`amphora-netns.sh`,
 * render/scripts.ts) is what the netns unit of each init system runs at boot; the agent runs it
 * itself before it validates or starts anything there, the first time and whenever the
 * namespace has gone (a reboot empties /run), not on every request: keepalived's
 * `--config-test` silently checks nothing in a namespace that does not exist.
 *
 * A namespace that had to be created is empty: when the agent creates it, it brings the
 * interfaces back itself (the `restore` hook, services/network/interfaces-boot) under the same
 * lock, so a plug waiting in `ensure()` never races the bring-up. The agent calls `ensure()` at
 * startup when something is plugged, which is how `direct` mode (no netns unit) gets its
 * interfaces back after a reboot. It runs the script with
 * `--namespace-only`, because the script would otherwise run the agent's `interfaces up` CLI,
 * which does the same thing in another process.
 */
import type { LiveConfig } from '../config/startup.js';
import type { Logger } from '../log.js';
import { renderNetnsSetup } from '../render/scripts.js';
import type { ProcessRunner } from '../system/exec.js';
import { ensureDir, exists, writeIfChanged } from '../system/files.js';
import type { Paths } from '../system/paths.js';
import { KeyedLock } from './keyed-lock.js';

/** keepalived refuses scripts in directories that others can write to. */
export const SCRIPT_MODE = 0o755;

export class AmphoraNamespace {
  private readonly lock = new KeyedLock();
  private ready = false;
  private restore: (() => Promise<void>) | undefined;

  /**
   * @param bootCommand the agent as the netns units must run it (`node <cli> --config-file F …`),
   *   rendered into the setup script; undefined when the agent runs embedded (tests).
   */
  constructor(
    private readonly config: () => LiveConfig,
    private readonly paths: Paths,
    private readonly runner: ProcessRunner,
    private readonly bootCommand?: readonly string[],
    private readonly log?: Logger,
  ) {}

  /** What brings the interfaces back into a new namespace; its errors are logged, not thrown. */
  restoreWith(restore: () => Promise<unknown>): void {
    this.restore = async () => {
      await restore().then(
        () => undefined,
        (err: unknown) => this.log?.error({ err }, 'interfaces not brought back into the namespace'),
      );
    };
  }

  /** Writes the setup script when its content would change. */
  async writeSetupScript(): Promise<void> {
    await ensureDir(this.paths.base);
    const text = renderNetnsSetup({ namespace: this.paths.namespace, lockFile: this.paths.netnsLockFile, ipCmd: this.config().amphora_agent.ip_cmd, loadModules: true, bootCommand: this.bootCommand });
    await this.lock.run('script', () => writeIfChanged(this.paths.netnsSetupScript, text, SCRIPT_MODE));
  }

  /** Makes sure the namespace exists with its settings, and its interfaces when it had to be made. */
  async ensure(): Promise<void> {
    await this.writeSetupScript();
    await this.lock.run('setup', async () => {
      const existed = await exists(this.paths.netnsFile);
      if (this.ready && existed) return;
      await this.runner.run('/bin/sh', [this.paths.netnsSetupScript, '--namespace-only']);
      this.ready = true;
      if (!existed && this.restore) await this.restore();
    });
  }
}
