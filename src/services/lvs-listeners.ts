/**
 * @module services/lvs-listeners
 * UDP and SCTP listeners, each served by its own keepalived (LVS, NAT) in the amphora
 * namespace. `install` is the typed entry (the text and what it holds): API 2.0 calls it with
 * what it rendered, API 1.0's `upload` after one look at the uploaded text. Both go through the
 * staged apply, so a config is validated by keepalived before it replaces anything and a failed
 * install leaves the listener as it was. Start and reload answer only once keepalived is alive
 * and serving; a reload of an unchanged config does nothing and a changed one is a SIGHUP, not a
 * restart. Work on one listener is serialized; listeners run in parallel.
 */
import { ConfigRejected, InvalidInput, NotFound } from '../model/errors.js';
import { inspectKeepalivedConfig, namespaceFindings } from '../model/keepalived-config.js';
import { parseLvsLayout, type LvsLayout } from '../model/lvs-layout.js';
import type { Uuid } from '../model/uuid.js';
import { readIfExists, removeFile } from '../system/files.js';
import { removePidFiles } from '../system/init/process-signals.js';
import { pidFileState } from '../system/processes.js';
import { lvsIdentity } from './daemon-specs.js';
import type { ApplyOutcome } from './apply/staged-apply.js';
import { lvsStartProof, type StartProof } from './apply/start-proof.js';
import { validateKeepalivedConfig } from './apply/validators.js';
import type { DaemonAction, DaemonServiceDeps, ListenerStatusEntry } from './daemon-service.js';
import type { ReviveOutcome } from './daemon-revival.js';
import { contentHash } from './digest.js';
import { runsVirtualServers, type LvsConfigFactsState, type LvsListenerState } from './state.js';

/** A keepalived LVS config and the facts about it the agent keeps. */
export interface LvsConfig {
  readonly text: string;
  readonly protocol: 'UDP' | 'SCTP';
  /** false: no pool, or the listener is disabled; keepalived then idles. */
  readonly virtualServers: boolean;
  /** Its layout, for the heartbeat: API 2.0 passes what it rendered, `upload` reads the text. */
  readonly layout: LvsLayout;
}

export const notFound = (id: string) => new NotFound('UDP Listener Not Found', `No UDP listener with UUID: ${id}`);

export class LvsListeners {
  constructor(private readonly deps: DaemonServiceDeps) {}

  has(id: Uuid): boolean {
    return id in this.deps.state.current.lvsListeners;
  }

  /** API 1.0: the controller's rendered config, looked at once for what the agent must know. */
  async upload(id: Uuid, body: Buffer): Promise<void> {
    if (body.length === 0) throw new InvalidInput('Invalid request', 'the request body is empty');
    const text = body.toString('utf8');
    // keepalived must run it in the amphora namespace and nowhere else (issue 14, fault 7)
    const outside = namespaceFindings(text, this.deps.paths.namespace);
    if (outside.length > 0) throw new ConfigRejected('Invalid request', outside.join('; '));
    const facts = inspectKeepalivedConfig(text);
    await this.install(id, { text, protocol: facts.protocol, virtualServers: facts.virtualServers, layout: parseLvsLayout(text) }, { activate: false });
  }

  /**
   * Validates and installs the listener's config and unit; with `activate`, also starts its
   * keepalived or reloads it, and answers once that is proven. Records the listener only on success.
   */
  async install(id: Uuid, config: LvsConfig, options: { readonly activate: boolean }): Promise<ApplyOutcome> {
    return this.deps.objectLocks.run(id, async () => {
      const { paths, scripts, state, applier, runner, log } = this.deps;
      // the UDP-CONNECT probe controller-rendered configs call must exist before validation
      await scripts.writeUdpCheck();
      const previous = state.current.lvsListeners[id];
      const hash = contentHash(config.text);
      const installed: LvsConfigFactsState = { hash, virtualServers: config.virtualServers, layout: config.layout };
      return applier.apply({
        daemon: this.deps.specs.lvs(id),
        config: paths.lvsConfig(id),
        text: config.text,
        hash,
        validate: (file) => validateKeepalivedConfig(runner, this.deps.paths.keepalivedCmd, file, log),
        installedHash: previous?.installed?.hash ?? null,
        isNew: previous === undefined,
        ...(options.activate ? { activate: { appliedHash: previous?.applied?.hash ?? null, children: this.children(id, installed), proof: this.proof(config.protocol, installed) } } : {}),
        commit: (outcome) =>
          this.record(id, (e) => {
            // activated: keepalived now runs this config; installed only: it runs what it ran
            const running = outcome === 'installed' ? undefined : installed;
            return { id, protocol: config.protocol, installed, wantRunning: running !== undefined || (e?.wantRunning ?? false), applied: running ?? e?.applied ?? null };
          }),
      });
    });
  }

  async read(id: Uuid): Promise<string> {
    const text = await readIfExists(this.deps.paths.lvsConfig(id));
    if (text === undefined) throw notFound(id);
    return text;
  }

  /** Returns the reference's success detail, e.g. "keepalivedlvs listener <id> started". */
  async act(id: Uuid, action: DaemonAction): Promise<string> {
    return this.deps.objectLocks.run(id, async () => {
      const { init, applier } = this.deps;
      const entry = this.deps.state.current.lvsListeners[id];
      if (!entry) throw notFound(id);
      const daemon = this.deps.specs.lvs(id);
      if (action === 'stop') {
        await init.stop(daemon);
        await this.record(id, (e) => ({ ...(e ?? entry), wantRunning: false, applied: null }));
        return `keepalivedlvs listener ${id} stopped`;
      }
      const installed = entry.installed ?? (await this.factsOnDisk(id));
      const running = await init.isActive(daemon);
      if (running && entry.applied?.hash === installed.hash) {
        await this.record(id, (e) => ({ ...(e ?? entry), wantRunning: true }));
        return `keepalivedlvs listener ${id} ${action === 'start' ? 'started' : 'reloaded'} (configuration unchanged, not restarted)`;
      }
      try {
        const outcome = await applier.activate(daemon, this.children(id, installed), running, undefined, this.proof(entry.protocol, installed));
        await this.record(id, (e) => ({ ...(e ?? entry), wantRunning: true, installed, applied: installed }));
        return `keepalivedlvs listener ${id} ${outcome}`;
      } catch (err) {
        // wanted but not proven: listed as ERROR, and the VRRP check watches it
        await this.record(id, (e) => ({ ...(e ?? entry), wantRunning: true, installed, applied: null }));
        throw err;
      }
    });
  }

  /**
   * The reconcile job's restart of a keepalived that died (services/daemon-revival.ts): under the
   * listener's lock, and only if the controller still wants it and it is still dead once the lock
   * is held. Started and proven as a controller's start is; the state records it as applied.
   */
  async revive(id: Uuid): Promise<ReviveOutcome> {
    return this.deps.objectLocks.run(id, async () => {
      const entry = this.deps.state.current.lvsListeners[id];
      if (entry?.wantRunning !== true) return 'not-wanted';
      const daemon = this.deps.specs.lvs(id);
      if ((await pidFileState(this.deps.paths, daemon.pidFile, daemon.identity)) === 'alive') return 'alive';
      const installed = entry.installed ?? (await this.factsOnDisk(id));
      try {
        await this.deps.applier.activate(daemon, this.children(id, installed), false, undefined, this.proof(entry.protocol, installed));
      } catch (err) {
        await this.record(id, (e) => ({ ...(e ?? entry), applied: null }));
        throw err;
      }
      await this.record(id, (e) => ({ ...(e ?? entry), installed, applied: installed }));
      return 'started';
    });
  }

  /** Idempotent; works on a crashed listener with stale pid files. */
  async remove(id: Uuid): Promise<void> {
    await this.deps.objectLocks.run(id, async () => {
      const { paths, init, state, scripts } = this.deps;
      const conf = paths.lvsConfig(id);
      if (!this.has(id) && (await readIfExists(conf)) === undefined) return;
      const daemon = this.deps.specs.lvs(id);
      if ((await pidFileState(paths, daemon.pidFile, daemon.identity)) === 'alive') await init.stop(daemon);
      await init.disable(daemon);
      await init.uninstall(daemon);
      await removePidFiles([daemon.pidFile, ...daemon.childPidFiles]);
      for (const f of [conf, paths.stagedConfig(conf), paths.rejectedConfig(conf)]) await removeFile(f);
      await this.deps.logs.remove(daemon.logFile);
      await state.update((s) => void delete s.lvsListeners[id]);
      await scripts.writeLvsLiveness();
    });
  }

  async statuses(): Promise<ListenerStatusEntry[]> {
    const { state, paths } = this.deps;
    return Promise.all(
      Object.values(state.current.lvsListeners).map(async (l) => {
        const alive = (await pidFileState(paths, paths.lvsPidFile(l.id as Uuid), lvsIdentity(paths, l.id as Uuid))) === 'alive';
        return { status: alive ? (runsVirtualServers(l) ? 'ACTIVE' : 'OFFLINE') : l.wantRunning ? 'ERROR' : 'OFFLINE', uuid: l.id, type: l.protocol };
      }),
    );
  }

  /** keepalived's health checker runs only for a config with virtual servers. */
  /** A start is proven by the virtual servers in IPVS too (issue 14 item 11). */
  private proof(protocol: 'UDP' | 'SCTP', config: LvsConfigFactsState): StartProof | undefined {
    // a state written by an older agent may lack the layout: such a start is proven as before
    if (config.layout === undefined) return undefined;
    return lvsStartProof(this.deps.runner, () => this.deps.config().amphora_agent.ipvsadm_cmd, this.deps.paths.namespace, protocol, config.layout);
  }

  private children(id: Uuid, config: LvsConfigFactsState): string[] {
    return config.virtualServers ? [this.deps.paths.lvsCheckPidFile(id)] : [];
  }

  /** The facts of an installed config that an older agent recorded without them. */
  private async factsOnDisk(id: Uuid): Promise<LvsConfigFactsState> {
    const text = await this.read(id);
    return { hash: contentHash(text), virtualServers: inspectKeepalivedConfig(text).virtualServers, layout: parseLvsLayout(text) };
  }

  /** Writes the listener's state entry and the LVS liveness check: once per request. */
  private async record(id: Uuid, change: (entry: LvsListenerState | undefined) => LvsListenerState): Promise<void> {
    await this.deps.state.update((s) => void (s.lvsListeners[id] = change(s.lvsListeners[id])));
    await this.deps.scripts.writeLvsLiveness();
  }
}
