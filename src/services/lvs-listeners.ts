/**
 * @module services/lvs-listeners
 * UDP and SCTP listeners, each served by its own keepalived (LVS, NAT) in the amphora
 * namespace. Uploads are validated by keepalived before they replace anything and leave no
 * half-made listener when a later step fails. Start, reload and restart answer only once
 * keepalived is alive and serving; a reload of an unchanged config does nothing and a changed
 * one is a SIGHUP, not a restart. Work on one listener is serialized; listeners run in parallel.
 */
import { ConfigRejected, InvalidInput, NotFound } from '../model/errors.js';
import { configHash, inspectKeepalivedConfig } from '../model/keepalived-config.js';
import type { Uuid } from '../model/uuid.js';
import { ensureDir, readIfExists, removeFile, writeFileAtomic } from '../system/files.js';
import { removePidFiles } from '../system/init/process-signals.js';
import { pidFileState } from '../system/processes.js';
import { startOrReload } from './daemon-health.js';
import type { KeepalivedServiceDeps } from './keepalived-daemons.js';
import { replaceValidated, validateKeepalivedConfig } from './keepalived-validate.js';
import { KeyedLock } from './keyed-lock.js';

export type LvsAction = 'start' | 'stop' | 'reload';
export type ListenerStatus = 'ACTIVE' | 'OFFLINE' | 'ERROR';

export type LvsDeps = KeepalivedServiceDeps;

export const notFound = (id: string) => new NotFound('UDP Listener Not Found', `No UDP listener with UUID: ${id}`);

export class LvsListeners {
  private readonly lock = new KeyedLock();

  constructor(private readonly deps: LvsDeps) {}

  has(id: Uuid): boolean {
    return id in this.deps.state.current.lvsListeners;
  }

  async upload(id: Uuid, body: Buffer): Promise<void> {
    if (body.length === 0) throw new InvalidInput('Invalid request', 'the request body is empty');
    const text = body.toString('utf8');
    await this.lock.run(id, async () => {
      const { paths, scripts, init, daemons, state, runner, log } = this.deps;
      await ensureDir(paths.lvsDir);
      await scripts.writeUdpCheck();
      const agent = this.deps.config().amphora_agent;
      const facts = inspectKeepalivedConfig(text);
      if (facts.netns !== null && facts.netns !== agent.network_namespace) {
        throw new ConfigRejected('Invalid request', `the config names net_namespace ${facts.netns}, but this agent runs listeners in ${agent.network_namespace}`);
      }
      // keepalived --config-test silently checks nothing when the config's namespace is missing.
      await scripts.ensureNamespace();
      const conf = paths.lvsConfig(id);
      const previous = state.current.lvsListeners[id];
      // The controller re-pushes every UDP listener on every change: the same text, already
      // validated and stored, is not validated again.
      const unchanged = previous !== undefined && (await readIfExists(conf)) === text;
      const previousText = unchanged ? text : await replaceValidated(conf, text, (file) => validateKeepalivedConfig(runner, agent.keepalived_cmd, file, log));
      const daemon = daemons.lvs(id);
      try {
        await init.install(daemon, daemons.netns());
        await init.enable(daemon, daemons.netns());
        await state.update((s) => {
          s.lvsListeners[id] = {
            id,
            wantRunning: previous?.wantRunning ?? false,
            appliedHash: previous?.appliedHash ?? null,
            protocol: facts.protocol,
            hasVirtualServer: previous?.hasVirtualServer ?? false,
          };
        });
        await scripts.writeLvsLiveness();
      } catch (err) {
        // Leave nothing half-made: the listener is as it was before this upload.
        if (previousText === undefined) await removeFile(conf);
        else await writeFileAtomic(conf, previousText, 0o644);
        if (previous === undefined) {
          await init.uninstall(daemon).catch((e: unknown) => log.warn({ err: e, id }, 'could not remove the unit of a failed upload'));
          await state.update((s) => void delete s.lvsListeners[id]);
        }
        throw err;
      }
    });
  }

  async read(id: Uuid): Promise<string> {
    const text = await readIfExists(this.deps.paths.lvsConfig(id));
    if (text === undefined) throw notFound(id);
    return text;
  }

  /** Returns the reference's success detail, e.g. "keepalivedlvs listener <id> started". */
  async act(id: Uuid, action: LvsAction): Promise<string> {
    return this.lock.run(id, async () => {
      const { init, daemons } = this.deps;
      const entry = this.deps.state.current.lvsListeners[id];
      if (!entry) throw notFound(id);
      const daemon = daemons.lvs(id);
      if (action === 'stop') {
        await init.stop(daemon);
        await this.record(id, { wantRunning: false, appliedHash: null });
        return `keepalivedlvs listener ${id} stopped`;
      }
      const text = await this.read(id);
      const hash = configHash(text);
      const running = await init.isActive(daemon);
      if (running && entry.appliedHash === hash) {
        await this.record(id, { wantRunning: true });
        return `keepalivedlvs listener ${id} ${action === 'start' ? 'started' : 'reloaded'} (configuration unchanged, not restarted)`;
      }
      const facts = inspectKeepalivedConfig(text);
      // Until it is proven healthy, the listener counts as wanted but not applied.
      await this.record(id, { wantRunning: true, appliedHash: null, hasVirtualServer: facts.virtualServers });
      const children = facts.virtualServers ? [this.deps.paths.lvsCheckPidFile(id)] : [];
      const settleMs = this.deps.config().amphora_agent.process_settle_seconds * 1000;
      await startOrReload(this.deps.paths, init, { daemon, children, running, settleMs });
      await this.record(id, { appliedHash: hash });
      return running ? `keepalivedlvs listener ${id} reloaded` : `keepalivedlvs listener ${id} started`;
    });
  }

  /** Idempotent; works on a crashed listener with stale pid files. */
  async remove(id: Uuid): Promise<void> {
    await this.lock.run(id, async () => {
      const { paths, init, daemons, state, scripts } = this.deps;
      const conf = paths.lvsConfig(id);
      if (!this.has(id) && (await readIfExists(conf)) === undefined) return;
      const daemon = daemons.lvs(id);
      if ((await pidFileState(paths, daemon.pidFile)) === 'alive') await init.stop(daemon);
      await init.disable(daemon);
      await init.uninstall(daemon);
      await removePidFiles([daemon.pidFile, ...daemon.childPidFiles]);
      for (const f of [conf, `${conf}.new`, `${conf}.new-failed`, daemon.logFile]) await removeFile(f);
      await state.update((s) => void delete s.lvsListeners[id]);
      await scripts.writeLvsLiveness();
    });
  }

  async statuses(): Promise<{ status: ListenerStatus; uuid: string; type: string }[]> {
    const { state, paths } = this.deps;
    const entries = Object.values(state.current.lvsListeners);
    return Promise.all(
      entries.map(async (l) => {
        const alive = (await pidFileState(paths, paths.lvsPidFile(l.id as Uuid))) === 'alive';
        const status: ListenerStatus = alive ? (l.hasVirtualServer ? 'ACTIVE' : 'OFFLINE') : l.wantRunning ? 'ERROR' : 'OFFLINE';
        return { status, uuid: l.id, type: l.protocol };
      }),
    );
  }

  private async record(id: Uuid, change: Partial<{ wantRunning: boolean; appliedHash: string | null; hasVirtualServer: boolean }>): Promise<void> {
    await this.deps.state.update((s) => {
      const entry = s.lvsListeners[id];
      if (entry) Object.assign(entry, change);
    });
    await this.deps.scripts.writeLvsLiveness();
  }
}

