/**
 * @module services/haproxy-lbs
 * The haproxy of each load balancer: one combined config for all its TCP and HTTP listeners
 * (`<base>/<lb id>/haproxy.cfg`), run in the amphora namespace through the init seam
 * (services/haproxy-daemons). A config is checked by the real `haproxy -c` before it replaces
 * anything; applying it starts a stopped haproxy, reloads a running one whose config changed
 * (SIGUSR2 to the master, which stays the same process) and leaves an unchanged one alone, and
 * answers only once haproxy serves. A failed apply leaves the load balancer as it was. Work on
 * one load balancer is serialized; load balancers run in parallel.
 */
import { randomBytes } from 'node:crypto';
import type { AgentConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { CommandFailed, ConfigRejected, InvalidInput } from '../model/errors.js';
import type { Uuid } from '../model/uuid.js';
import type { ProcessRunner } from '../system/exec.js';
import { ensureDir, exists, readIfExists, removeEmptyDir, removeFile, writeFileAtomic } from '../system/files.js';
import { removePidFiles } from '../system/init/process-signals.js';
import type { InitSystem } from '../system/init/types.js';
import type { Paths } from '../system/paths.js';
import { pidFileState } from '../system/processes.js';
import type { CheckScripts } from './check-scripts.js';
import { startOrReload } from './daemon-health.js';
import type { HaproxyDaemons } from './haproxy-daemons.js';
import { replaceValidated } from './keepalived-validate.js';
import { KeyedLock } from './keyed-lock.js';
import type { StateStore } from './state.js';

export interface HaproxyLbDeps {
  readonly config: () => AgentConfig;
  readonly paths: Paths;
  readonly runner: ProcessRunner;
  readonly init: InitSystem;
  readonly daemons: HaproxyDaemons;
  readonly scripts: CheckScripts;
  readonly state: StateStore;
  readonly log: Logger;
}

/** What `apply` did: started a stopped haproxy, reloaded a running one, or nothing (same config, running). */
export type HaproxyApplyOutcome = 'started' | 'reloaded' | 'unchanged';

/**
 * `haproxy -c -f <file>`: exit 0 is valid (warnings included, as the reference accepts them);
 * anything else is a 400 with haproxy's own words. haproxy checks no address here: a VIP missing
 * from the namespace is found when haproxy binds it, at start or reload.
 */
export async function validateHaproxyConfig(runner: ProcessRunner, haproxy: string, file: string, log: Logger): Promise<void> {
  const r = await runner.run(haproxy, ['-c', '-f', file], { allowFailure: true });
  if (r.exitCode === 0) {
    if (/\[WARNING\]/.test(r.output)) log.debug({ file, output: r.output }, 'haproxy config accepted with warnings');
    return;
  }
  if (r.exitCode === undefined) throw new CommandFailed(r.argv, undefined, r.output, 'Cannot validate the haproxy configuration');
  throw new ConfigRejected('Invalid request', r.output.trim());
}

export class HaproxyLoadBalancers {
  private readonly lock = new KeyedLock();

  constructor(private readonly deps: HaproxyLbDeps) {}

  private validator(): (file: string) => Promise<void> {
    const { runner, log } = this.deps;
    return (file) => validateHaproxyConfig(runner, this.deps.config().haproxy_amphora.haproxy_cmd, file, log);
  }

  /** Checks `text` with `haproxy -c` on a copy beside the load balancer's config; changes nothing. */
  async validate(lbId: Uuid, text: string): Promise<void> {
    if (text.length === 0) throw new InvalidInput('Invalid request', 'the haproxy configuration is empty');
    await this.lock.run(lbId, async () => {
      const { paths } = this.deps;
      const dir = paths.haproxyDir(lbId);
      await ensureDir(dir);
      const copy = `${paths.haproxyConfig(lbId)}.check-${randomBytes(4).toString('hex')}`;
      try {
        await writeFileAtomic(copy, text, 0o644);
        await this.validator()(copy);
      } finally {
        await removeFile(copy);
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
  async apply(lbId: Uuid, text: string, listenerIds: readonly string[]): Promise<HaproxyApplyOutcome> {
    if (text.length === 0) throw new InvalidInput('Invalid request', 'the haproxy configuration is empty');
    return this.lock.run(lbId, async () => {
      const { paths, scripts, init, daemons, state, log } = this.deps;
      const conf = paths.haproxyConfig(lbId);
      const daemon = daemons.lb(lbId);
      const netns = daemons.netns();
      const previous = state.current.loadBalancers[lbId];
      await ensureDir(paths.haproxyDir(lbId));
      await scripts.ensureNamespace();

      const running = await init.isActive(daemon);
      const onDisk = await readIfExists(conf);
      // The file on disk is what a running haproxy loaded: every failed apply puts it back.
      const unchanged = onDisk === text;
      const previousText = unchanged ? onDisk : await replaceValidated(conf, text, this.validator());
      try {
        await init.install(daemon, netns);
        await init.enable(daemon, netns);
        let outcome: HaproxyApplyOutcome = 'unchanged';
        if (!(running && unchanged)) {
          const settleMs = this.deps.config().amphora_agent.process_settle_seconds * 1000;
          await startOrReload(paths, init, { daemon, children: [], running, settleMs });
          outcome = running ? 'reloaded' : 'started';
        }
        await state.update((s) => {
          s.loadBalancers[lbId] = { id: lbId, wantRunning: true, listeners: [...listenerIds] };
        });
        // from now on a dead haproxy fails the VRRP check, so the standby takes the VIP
        await scripts.writeHaproxyLiveness();
        return outcome;
      } catch (err) {
        if (!unchanged) {
          if (previousText === undefined) await removeFile(conf);
          else await writeFileAtomic(conf, previousText, 0o644);
        }
        if (previous === undefined) {
          // a load balancer that never ran leaves no unit and no process behind
          if ((await pidFileState(paths, daemon.pidFile)) === 'alive') await init.stop(daemon).catch((e: unknown) => log.warn({ err: e, lbId }, 'could not stop the haproxy of a failed apply'));
          await removePidFiles([daemon.pidFile]);
          await init.disable(daemon).catch((e: unknown) => log.warn({ err: e, lbId }, 'could not disable the unit of a failed apply'));
          await init.uninstall(daemon).catch((e: unknown) => log.warn({ err: e, lbId }, 'could not remove the unit of a failed apply'));
        }
        throw err;
      }
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
  async act(lbId: Uuid, action: 'start' | 'stop' | 'reload'): Promise<string> {
    return this.lock.run(lbId, async () => {
      const { paths, init, daemons, state, scripts } = this.deps;
      const entry = state.current.loadBalancers[lbId];
      if (entry === undefined) throw new InvalidInput('Invalid request', `no haproxy load balancer ${lbId}`);
      const daemon = daemons.lb(lbId);
      if (action === 'stop') {
        await init.stop(daemon);
        await state.update((s) => void (s.loadBalancers[lbId] = { ...entry, wantRunning: false }));
        await scripts.writeHaproxyLiveness();
        return `haproxy daemon for ${lbId} stopped`;
      }
      await scripts.ensureNamespace();
      const running = await init.isActive(daemon);
      const settleMs = this.deps.config().amphora_agent.process_settle_seconds * 1000;
      await startOrReload(paths, init, { daemon, children: [], running, settleMs });
      await state.update((s) => void (s.loadBalancers[lbId] = { ...entry, wantRunning: true }));
      await scripts.writeHaproxyLiveness();
      return `haproxy daemon for ${lbId} ${running ? 'reloaded' : 'started'}`;
    });
  }

  /**
   * `/1.0/listeners` entries of the haproxy listeners: ACTIVE when the load balancer's haproxy
   * master is alive, ERROR when it should run and does not, OFFLINE for a disabled listener
   * (it has no frontend) or a load balancer that should not run. Type as the listener model says.
   */
  async statuses(): Promise<{ status: 'ACTIVE' | 'OFFLINE' | 'ERROR'; uuid: string; type: string }[]> {
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
      const { paths, init, daemons, state } = this.deps;
      const conf = paths.haproxyConfig(lbId);
      const daemon = daemons.lb(lbId);
      const known = lbId in state.current.loadBalancers;
      const pid = await pidFileState(paths, daemon.pidFile);
      // (the log of a load balancer that failed its first start stays for the operator until then)
      if (!known && pid === 'absent' && !(await exists(paths.haproxyDir(lbId)))) return;
      if (pid === 'alive') await init.stop(daemon);
      await init.disable(daemon);
      await init.uninstall(daemon);
      await removePidFiles([daemon.pidFile, ...daemon.childPidFiles]);
      for (const f of [conf, `${conf}.new`, `${conf}.new-failed`, daemon.logFile, paths.haproxyStatsSocket(lbId)]) await removeFile(f);
      await removeEmptyDir(paths.haproxyDir(lbId));
      await state.update((s) => void delete s.loadBalancers[lbId]);
      await this.deps.scripts.writeHaproxyLiveness();
    });
  }
}
