/**
 * @module services/namespace
 * The amphora network namespace every daemon runs in. Its setup script (`amphora-netns.sh`,
 * render/scripts.ts) is what the netns unit of each init system runs at boot; the agent runs it
 * itself before it validates or starts anything there, the first time and whenever the
 * namespace has gone (a reboot empties /run), not on every request: keepalived's
 * `--config-test` silently checks nothing in a namespace that does not exist.
 */
import type { LiveConfig } from '../config/startup.js';
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

  constructor(
    private readonly config: () => LiveConfig,
    private readonly paths: Paths,
    private readonly runner: ProcessRunner,
  ) {}

  /** Writes the setup script when its content would change. */
  async writeSetupScript(): Promise<void> {
    await ensureDir(this.paths.base);
    const text = renderNetnsSetup({ namespace: this.paths.namespace, ipCmd: this.config().amphora_agent.ip_cmd, loadModules: true });
    await this.lock.run('script', () => writeIfChanged(this.paths.netnsSetupScript, text, SCRIPT_MODE));
  }

  /** Makes sure the namespace exists with its settings. */
  async ensure(): Promise<void> {
    await this.writeSetupScript();
    await this.lock.run('setup', async () => {
      if (this.ready && (await exists(this.paths.netnsFile))) return;
      await this.runner.run('/bin/sh', [this.paths.netnsSetupScript]);
      this.ready = true;
    });
  }
}
