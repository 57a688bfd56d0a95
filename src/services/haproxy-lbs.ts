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
 *
 * API 2.0 hands it the config it rendered from listener models (`apply`); API 1.0 the
 * controller's own (`upload`): installed only, validated and run as the reference runs it (its
 * amphora's peer name, the user-group file), its listeners read once and kept in the state.
 *
 * Before every reload of a running haproxy, its server states are saved for the new process, and
 * before a start the file is emptied (services/haproxy-server-state): always for configs the
 * agent renders, for uploaded ones when their `server-state-file` is the load balancer's
 * servers-state file.
 */
import { dirname } from 'node:path';
import { InvalidInput, NotFound } from '../model/errors.js';
import { haproxyFrontends, haproxyPeerName, withoutGlobalGroup } from '../model/haproxy-config.js';
import type { Uuid } from '../model/uuid.js';
import { ensureDir, exists, readIfExists, removeEmptyDir, removeFile, removeTree, writeFileAtomic } from '../system/files.js';
import { removePidFiles } from '../system/init/process-signals.js';
import { pidFileState } from '../system/processes.js';
import { haproxyIdentity } from './daemon-specs.js';
import type { ApplyOutcome, BeforeActivate } from './apply/staged-apply.js';
import { validateHaproxyConfig, type HaproxyRunOptions, type Validator } from './apply/validators.js';
import type { DaemonAction, DaemonServiceDeps, ListenerStatusEntry } from './daemon-service.js';
import type { ReviveOutcome } from './daemon-revival.js';
import { contentHash } from './digest.js';
import { prepareServerState, readsServerState, removeServerState, type ServerStateDeps } from './haproxy-server-state.js';
import type { HaproxyUploadState } from './state.js';

/**
 * Debian's haproxy-default-user-group.conf, which amphora images ship: the group haproxy drops
 * to, now that the agent takes `group` out of uploaded configs. Written when the image has none,
 * because `haproxy -c -f <it>` fails on a missing file and no upload could pass.
 */
const DEBIAN_USER_GROUP = 'global\n    group nogroup\n';

interface InstallRequest {
  readonly listeners: readonly string[];
  readonly upload: HaproxyUploadState | null;
  /** Start or reload now (API 2.0); install only (API 1.0, whose `reload` follows). */
  readonly activate: boolean;
}

const notFound = (lbId: string) => new NotFound('Loadbalancer Not Found', `No loadbalancer with UUID: ${lbId}`);

export class HaproxyLoadBalancers {
  private readonly serverState: ServerStateDeps;

  constructor(private readonly deps: DaemonServiceDeps) {
    this.serverState = { paths: deps.paths, log: deps.log, timeoutMs: () => deps.config().amphora_agent.process_ready_timeout * 1000 };
  }

  /** Prepares the server-state file before a start or reload when the config reads it (ours always does). */
  private beforeActivate(lbId: Uuid, upload: HaproxyUploadState | null): BeforeActivate | undefined {
    return upload === null || upload.readsServerState ? (how) => prepareServerState(this.serverState, lbId, how) : undefined;
  }

  private runOptions(upload: HaproxyUploadState | null): HaproxyRunOptions | null {
    return upload === null ? null : { peer: upload.peer, userGroupFile: this.deps.paths.haproxyUserGroupFile };
  }

  private validator(upload: HaproxyUploadState | null): Validator {
    const { runner, log } = this.deps;
    return (file) => validateHaproxyConfig(runner, this.deps.paths.haproxyCmd, file, log, this.runOptions(upload));
  }

  /** The unit of the load balancer's haproxy, as the state says it runs. */
  private daemon(lbId: Uuid, upload = this.deps.state.current.loadBalancers[lbId]?.upload ?? null) {
    return this.deps.specs.haproxy(lbId, this.runOptions(upload));
  }

  /** Checks `text` with `haproxy -c` on a copy beside the load balancer's config; changes nothing. */
  async validate(lbId: Uuid, text: string): Promise<void> {
    if (text.length === 0) throw new InvalidInput('Invalid request', 'the haproxy configuration is empty');
    await this.deps.objectLocks.run(lbId, async () => {
      const dir = this.deps.paths.haproxyDir(lbId);
      await ensureDir(dir);
      try {
        await this.deps.applier.check(this.deps.paths.haproxyConfig(lbId), text, this.validator(null));
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
    return this.install(lbId, text, { listeners: listenerIds, upload: null, activate: true });
  }

  /**
   * API 1.0: the controller's combined config for load balancer `lbId`, sent to amphora
   * `amphoraId`. Its global `group` goes (the user-group file gives it), its listeners are read
   * once, and it is validated as haproxy will run it (`-L <peer>`, the user-group file), then
   * installed with its unit. Nothing starts: the controller's `reload` follows. A refused config
   * changes nothing but the `.new-failed` copy.
   */
  async upload(amphoraId: Uuid, lbId: Uuid, body: Buffer): Promise<void> {
    if (body.length === 0) throw new InvalidInput('Invalid request', 'the haproxy configuration is empty');
    const text = withoutGlobalGroup(body.toString('utf8'));
    const frontends = haproxyFrontends(text);
    const upload = {
      peer: haproxyPeerName(amphoraId),
      types: Object.fromEntries(frontends.map((f) => [f.id, f.type])),
      readsServerState: readsServerState(this.serverState, lbId, text),
    };
    await this.ensureUserGroupFile();
    await this.install(lbId, text, { listeners: frontends.map((f) => f.id), upload, activate: false });
  }

  private async ensureUserGroupFile(): Promise<void> {
    const file = this.deps.paths.haproxyUserGroupFile;
    if (await exists(file)) return;
    await ensureDir(dirname(file));
    await writeFileAtomic(file, DEBIAN_USER_GROUP, 0o644);
  }

  private async install(lbId: Uuid, text: string, req: InstallRequest): Promise<ApplyOutcome> {
    if (text.length === 0) throw new InvalidInput('Invalid request', 'the haproxy configuration is empty');
    return this.deps.objectLocks.run(lbId, async () => {
      const { paths, scripts, state, applier } = this.deps;
      const previous = state.current.loadBalancers[lbId];
      const hash = contentHash(text);
      // the same text run with another peer name (or without one) is another config to check
      const sameRun = previous !== undefined && previous.upload?.peer === req.upload?.peer;
      await ensureDir(paths.haproxyDir(lbId));
      return applier.apply({
        daemon: this.daemon(lbId, req.upload),
        config: paths.haproxyConfig(lbId),
        text,
        hash,
        mode: 0o600,
        validate: this.validator(req.upload),
        installedHash: sameRun ? previous.installedHash : null,
        isNew: previous === undefined,
        ...(req.activate ? { activate: { appliedHash: sameRun ? previous.appliedHash : null, children: [], beforeActivate: this.beforeActivate(lbId, req.upload) } } : {}),
        commit: async (outcome) => {
          const running = outcome !== 'installed';
          await state.update((s) => {
            s.loadBalancers[lbId] = {
              id: lbId,
              listeners: [...req.listeners],
              upload: req.upload,
              installedHash: hash,
              // installed only: haproxy runs what it ran until the controller's reload
              wantRunning: running || (previous?.wantRunning ?? false),
              appliedHash: running ? hash : (previous?.appliedHash ?? null),
            };
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
    return this.deps.objectLocks.run(lbId, async () => {
      const { init, state, scripts, applier } = this.deps;
      const entry = state.current.loadBalancers[lbId];
      if (entry === undefined) throw new InvalidInput('Invalid request', `no haproxy load balancer ${lbId}`);
      const daemon = this.daemon(lbId);
      let detail = `haproxy daemon for ${lbId} stopped`;
      if (action === 'stop') {
        await init.stop(daemon);
      } else {
        const running = await init.isActive(daemon);
        detail = `haproxy daemon for ${lbId} ${await applier.activate(daemon, [], running, this.beforeActivate(lbId, entry.upload))}`;
      }
      await state.update((s) => void (s.loadBalancers[lbId] = { ...entry, wantRunning: action !== 'stop', appliedHash: action === 'stop' ? null : entry.installedHash }));
      await scripts.writeHaproxyLiveness();
      return detail;
    });
  }

  /**
   * The reconcile job's restart of a haproxy that died (services/daemon-revival.ts): under the
   * load balancer's lock, only if it is still wanted and still dead once the lock is held; its
   * server-state file is prepared as for any start.
   */
  async revive(lbId: Uuid): Promise<ReviveOutcome> {
    return this.deps.objectLocks.run(lbId, async () => {
      const { state, applier, scripts, paths } = this.deps;
      const entry = state.current.loadBalancers[lbId];
      if (entry?.wantRunning !== true) return 'not-wanted';
      const daemon = this.daemon(lbId);
      if ((await pidFileState(paths, daemon.pidFile, daemon.identity)) === 'alive') return 'alive';
      await applier.activate(daemon, [], false, this.beforeActivate(lbId, entry.upload));
      await state.update((s) => void (s.loadBalancers[lbId] = { ...entry, appliedHash: entry.installedHash }));
      await scripts.writeHaproxyLiveness();
      return 'started';
    });
  }

  /**
   * `/1.0/listeners` entries of the haproxy listeners: ACTIVE when the load balancer's haproxy
   * master is alive, ERROR when it should run and does not, OFFLINE for a disabled listener
   * (it has no frontend) or a load balancer that should not run. Type as the listener model
   * says, or as the uploaded config said (recorded at upload).
   */
  async statuses(): Promise<ListenerStatusEntry[]> {
    const { state, paths } = this.deps;
    const out = await Promise.all(
      Object.values(state.current.loadBalancers).map(async (lb) => {
        const alive = (await pidFileState(paths, paths.haproxyPidFile(lb.id as Uuid), haproxyIdentity(paths, lb.id as Uuid))) === 'alive';
        return lb.listeners.map((id) => {
          const model = state.current.listenerModels[id]?.model as { protocol?: string; admin_state_up?: boolean } | undefined;
          const status = model?.admin_state_up === false ? 'OFFLINE' : alive ? 'ACTIVE' : lb.wantRunning ? 'ERROR' : 'OFFLINE';
          return { status, uuid: id, type: lb.upload?.types[id] ?? model?.protocol ?? 'TCP' } as const;
        });
      }),
    );
    return out.flat();
  }

  /** The config haproxy runs (or would run) for the load balancer, or undefined. */
  async read(lbId: Uuid): Promise<string | undefined> {
    return readIfExists(this.deps.paths.haproxyConfig(lbId));
  }

  /** `GET /1.0/loadbalancer/{lb}/haproxy`: the installed config; 404 in the reference's words. */
  async installedConfig(lbId: Uuid): Promise<string> {
    const text = await this.read(lbId);
    if (text === undefined) throw notFound(lbId);
    return text;
  }

  /**
   * Stops haproxy and removes its unit, files, certificates and state entry. Idempotent; works on
   * a crashed haproxy with a stale pid file.
   */
  async remove(lbId: Uuid): Promise<void> {
    await this.deps.objectLocks.run(lbId, async () => {
      const { paths, init, state } = this.deps;
      const conf = paths.haproxyConfig(lbId);
      const daemon = this.daemon(lbId);
      const known = lbId in state.current.loadBalancers;
      const pid = await pidFileState(paths, daemon.pidFile, daemon.identity);
      // (the log of a load balancer that failed its first start stays for the operator until then)
      if (!known && pid === 'absent' && !(await exists(paths.haproxyDir(lbId))) && !(await exists(paths.certDir(lbId)))) return;
      if (pid === 'alive') await init.stop(daemon);
      await init.disable(daemon);
      await init.uninstall(daemon);
      await removePidFiles([daemon.pidFile, ...daemon.childPidFiles]);
      for (const f of [conf, paths.stagedConfig(conf), paths.rejectedConfig(conf), paths.haproxyStatsSocket(lbId)]) await removeFile(f);
      await this.deps.logs.remove(daemon.logFile);
      await removeServerState(paths, lbId);
      await removeEmptyDir(paths.haproxyDir(lbId));
      await removeTree(paths.certDir(lbId));
      await state.update((s) => void delete s.loadBalancers[lbId]);
      await this.deps.scripts.writeHaproxyLiveness();
    });
  }
}
