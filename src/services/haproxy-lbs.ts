/**
 * @module services/haproxy-lbs
 * The haproxy of each load balancer: one combined config for all its TCP and HTTP listeners
 * (`<base>/<lb id>/haproxy.cfg`), run in the amphora namespace through the init seam
 * (services/daemon-specs). Applying a config goes through the staged apply: `haproxy -c`
 * checks it before it replaces anything; then a stopped haproxy is started, a running one whose
 * config changed is reloaded (SIGUSR2 to the master, which stays the same process) and an
 * unchanged one is left alone, and the answer comes only once haproxy serves. A failed apply
 * leaves the load balancer as it was. Work on one load balancer is serialized; load balancers
 * run in parallel.
 */
import { InvalidInput } from '../model/errors.js';
import type { Uuid } from '../model/uuid.js';
import { ensureDir, exists, readIfExists, removeEmptyDir, removeFile } from '../system/files.js';
import { removePidFiles } from '../system/init/process-signals.js';
import { pidFileState } from '../system/processes.js';
import type { ApplyOutcome } from './apply/staged-apply.js';
import { validateHaproxyConfig, type Validator } from './apply/validators.js';
import type { DaemonAction, DaemonServiceDeps, ListenerStatusEntry } from './daemon-service.js';
import { contentHash } from './digest.js';
import { KeyedLock } from './keyed-lock.js';

export class HaproxyLoadBalancers {
  private readonly lock = new KeyedLock();

  constructor(private readonly deps: DaemonServiceDeps) {}

  private validator(): Validator {
    const { runner, log } = this.deps;
    return (file) => validateHaproxyConfig(runner, this.deps.config().haproxy_amphora.haproxy_cmd, file, log);
  }

  /** Checks `text` with `haproxy -c` on a copy beside the load balancer's config; changes nothing. */
  async validate(lbId: Uuid, text: string): Promise<void> {
    if (text.length === 0) throw new InvalidInput('Invalid request', 'the haproxy configuration is empty');
    await this.lock.run(lbId, async () => {
      const dir = this.deps.paths.haproxyDir(lbId);
      await ensureDir(dir);
      try {
        await this.deps.applier.check(this.deps.paths.haproxyConfig(lbId), text, this.validator());
      } finally {
        // a load balancer that does not exist keeps no directory for having been validated
        await removeEmptyDir(dir);
      }
    });
  }

  /**
   * Validates `text`, puts it in place and makes haproxy run it: start when stopped, reload
   * when running with another config, nothing when running with this one. Records the load
   * balancer and its listener ids in the state. On failure the previous config, unit and state
   * stay (a running haproxy keeps serving the previous config).
   */
  async apply(lbId: Uuid, text: string, listenerIds: readonly string[]): Promise<ApplyOutcome> {
    if (text.length === 0) throw new InvalidInput('Invalid request', 'the haproxy configuration is empty');
    return this.lock.run(lbId, async () => {
      const { paths, scripts, state, applier } = this.deps;
      const previous = state.current.loadBalancers[lbId];
      const hash = contentHash(text);
      await ensureDir(paths.haproxyDir(lbId));
      return applier.apply({
        daemon: this.deps.specs.haproxy(lbId),
        config: paths.haproxyConfig(lbId),
        text,
        hash,
        validate: this.validator(),
        installedHash: previous?.installedHash ?? null,
        isNew: previous === undefined,
        activate: { appliedHash: previous?.appliedHash ?? null, children: [] },
        commit: async () => {
          await state.update((s) => {
            s.loadBalancers[lbId] = { id: lbId, wantRunning: true, listeners: [...listenerIds], installedHash: hash, appliedHash: hash };
          });
          // from now on a dead haproxy fails the VRRP check, so the standby takes the VIP
          await scripts.writeHaproxyLiveness();
        },
      });
    });
  }

  has(lbId: Uuid): boolean {
    return lbId in this.deps.state.current.loadBalancers;
  }

  /**
   * `PUT /1.0/loadbalancer/{lb}/{start|stop|reload}` for a load balancer made through API 2.0.
   * start and reload run the installed config (a stopped haproxy is started, a running one
   * reloaded and acknowledged); stop stops it on purpose, so the VRRP check no longer watches it.
   * Returns the reference's kind of detail.
   */
  async act(lbId: Uuid, action: DaemonAction): Promise<string> {
    return this.lock.run(lbId, async () => {
      const { init, state, scripts, applier } = this.deps;
      const entry = state.current.loadBalancers[lbId];
      if (entry === undefined) throw new InvalidInput('Invalid request', `no haproxy load balancer ${lbId}`);
      const daemon = this.deps.specs.haproxy(lbId);
      let detail = `haproxy daemon for ${lbId} stopped`;
      if (action === 'stop') {
        await init.stop(daemon);
      } else {
        detail = `haproxy daemon for ${lbId} ${await applier.activate(daemon, [], await init.isActive(daemon))}`;
      }
      await state.update((s) => void (s.loadBalancers[lbId] = { ...entry, wantRunning: action !== 'stop', appliedHash: action === 'stop' ? null : entry.installedHash }));
      await scripts.writeHaproxyLiveness();
      return detail;
    });
  }

  /**
   * `/1.0/listeners` entries of the haproxy listeners: ACTIVE when the load balancer's haproxy
   * master is alive, ERROR when it should run and does not, OFFLINE for a disabled listener
   * (it has no frontend) or a load balancer that should not run. Type as the listener model says.
   */
  async statuses(): Promise<ListenerStatusEntry[]> {
    const { state, paths } = this.deps;
    const out = await Promise.all(
      Object.values(state.current.loadBalancers).map(async (lb) => {
        const alive = (await pidFileState(paths, paths.haproxyPidFile(lb.id as Uuid))) === 'alive';
        return lb.listeners.map((id) => {
          const model = state.current.listenerModels[id]?.model as { protocol?: string; admin_state_up?: boolean } | undefined;
          const status = model?.admin_state_up === false ? 'OFFLINE' : alive ? 'ACTIVE' : lb.wantRunning ? 'ERROR' : 'OFFLINE';
          return { status, uuid: id, type: model?.protocol ?? 'TCP' } as const;
        });
      }),
    );
    return out.flat();
  }

  /** The config haproxy runs (or would run) for the load balancer, or undefined. */
  async read(lbId: Uuid): Promise<string | undefined> {
    return readIfExists(this.deps.paths.haproxyConfig(lbId));
  }

  /** Stops haproxy and removes its unit, files and state entry. Idempotent; works on a crashed haproxy with a stale pid file. */
  async remove(lbId: Uuid): Promise<void> {
    await this.lock.run(lbId, async () => {
      const { paths, init, state } = this.deps;
      const conf = paths.haproxyConfig(lbId);
      const daemon = this.deps.specs.haproxy(lbId);
      const known = lbId in state.current.loadBalancers;
      const pid = await pidFileState(paths, daemon.pidFile);
      // (the log of a load balancer that failed its first start stays for the operator until then)
      if (!known && pid === 'absent' && !(await exists(paths.haproxyDir(lbId)))) return;
      if (pid === 'alive') await init.stop(daemon);
      await init.disable(daemon);
      await init.uninstall(daemon);
      await removePidFiles([daemon.pidFile, ...daemon.childPidFiles]);
      for (const f of [conf, paths.stagedConfig(conf), paths.rejectedConfig(conf), daemon.logFile, paths.haproxyStatsSocket(lbId)]) await removeFile(f);
      await removeEmptyDir(paths.haproxyDir(lbId));
      await state.update((s) => void delete s.loadBalancers[lbId]);
      await this.deps.scripts.writeHaproxyLiveness();
    });
  }
}
