/**
 * @module services/vrrp
 * The VRRP keepalived of ACTIVE_STANDBY amphorae: upload (validated by keepalived inside the
 * namespace, where its interfaces are, through the staged apply), start, stop and reload. Its
 * vrrp_script runs the check script the agent keeps at `<base_path>/vrrp/check_script.sh`.
 * The IPVS connection sync daemons follow it (services/ipvs-sync.ts): brought in line with the
 * installed config after every start and reload, stopped with it.
 */
import { ConfigRejected, InvalidInput, NotFound } from '../model/errors.js';
import { inspectKeepalivedConfig, namespaceFindings } from '../model/keepalived-config.js';
import { exists, readIfExists } from '../system/files.js';
import { validateKeepalivedConfig } from './apply/validators.js';
import type { DaemonAction, DaemonServiceDeps } from './daemon-service.js';
import { contentHash } from './digest.js';
import type { IpvsSync } from './ipvs-sync.js';
import { KeyedLock } from './keyed-lock.js';
import type { VrrpState } from './state.js';

const KEY = 'vrrp';

/**
 * 400 before anything is written (issue 14, fault 10): a VRRP config without a `vrrp_instance`
 * runs a keepalived that announces nothing, so the amphora would never take its VIPs; and, as
 * for LVS listeners, keepalived must not be able to run it outside the amphora namespace.
 */
function refuseUnfit(text: string, namespace: string): void {
  if (!inspectKeepalivedConfig(text).vrrpInstances) throw new ConfigRejected('Invalid request', 'the VRRP config has no vrrp_instance');
  const outside = namespaceFindings(text, namespace);
  if (outside.length > 0) throw new ConfigRejected('Invalid request', outside.join('; '));
}

export class Vrrp {
  private readonly lock = new KeyedLock();

  constructor(
    private readonly deps: DaemonServiceDeps,
    private readonly sync: IpvsSync,
  ) {}

  /**
   * Starts the sync daemons for the installed config when the VRRP keepalived is wanted. main.ts
   * calls it once at startup (a reboot leaves a namespace without them); the actions below keep
   * them in line after each change. Nothing to do without a wanted VRRP keepalived (`stop` has
   * stopped them) or without the namespace (the boot's netns unit has not made it yet).
   */
  async followSync(): Promise<void> {
    await this.lock.run(KEY, async () => {
      if (this.deps.state.current.vrrp?.wantRunning !== true || !(await exists(this.deps.paths.netnsFile))) return;
      await this.sync.follow((await readIfExists(this.deps.paths.vrrpConfig)) ?? null);
    });
  }

  async upload(body: Buffer): Promise<void> {
    if (body.length === 0) throw new InvalidInput('Invalid request', 'the request body is empty');
    const text = body.toString('utf8');
    refuseUnfit(text, this.deps.paths.namespace);
    await this.lock.run(KEY, async () => {
      const { paths, scripts, state, runner, log, applier } = this.deps;
      // The check scripts must exist before validation: keepalived disables a missing vrrp_script.
      await Promise.all([scripts.writeVrrpCheck(), scripts.writeLvsLiveness()]);
      const previous = state.current.vrrp;
      const hash = contentHash(text);
      await applier.apply({
        daemon: this.deps.specs.vrrp(),
        config: paths.vrrpConfig,
        text,
        hash,
        // inside the namespace, where the VRRP interfaces are
        validate: (file) => validateKeepalivedConfig(runner, paths.keepalivedCmd, file, log, paths.namespace),
        installedHash: previous?.installedHash ?? null,
        isNew: previous === null,
        commit: () => this.record(() => ({ wantRunning: previous?.wantRunning ?? false, installedHash: hash, appliedHash: previous?.appliedHash ?? null })),
      });
    });
  }

  /** Returns the reference's success detail: "keepalived started" and so on. */
  async act(action: DaemonAction): Promise<string> {
    return this.lock.run(KEY, async () => {
      const { init, applier, paths } = this.deps;
      const entry = this.deps.state.current.vrrp;
      if (entry === null) throw new NotFound('VRRP Not Found', 'No VRRP configuration has been uploaded');
      const daemon = this.deps.specs.vrrp();
      if (action === 'stop') {
        await init.stop(daemon);
        await this.record((e) => ({ ...e, wantRunning: false, appliedHash: null }));
        await this.sync.follow(null);
        return 'keepalived stopped';
      }
      // (an older agent recorded no installed hash)
      const text = (await readIfExists(paths.vrrpConfig)) ?? '';
      const installedHash = entry.installedHash ?? contentHash(text);
      const running = await init.isActive(daemon);
      if (running && entry.appliedHash === installedHash) {
        await this.sync.follow(text);
        return `keepalived ${action === 'start' ? 'started' : 'reloaded'} (configuration unchanged)`;
      }
      try {
        const outcome = await applier.activate(daemon, [paths.vrrpChildPidFile], running);
        await this.record((e) => ({ ...e, wantRunning: true, installedHash, appliedHash: installedHash }));
        await this.sync.follow(text);
        return `keepalived ${outcome}`;
      } catch (err) {
        await this.record((e) => ({ ...e, wantRunning: true, appliedHash: null }));
        throw err;
      }
    });
  }

  private async record(change: (entry: VrrpState) => VrrpState): Promise<void> {
    await this.deps.state.update((s) => void (s.vrrp = change(s.vrrp ?? { wantRunning: false, installedHash: null, appliedHash: null })));
  }
}
