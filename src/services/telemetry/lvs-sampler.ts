/**
 * @module services/telemetry/lvs-sampler
 * `LvsSampler` for the UDP and SCTP listeners of the state: one look at IPVS (two `ipvsadm`
 * runs in the amphora namespace, system/ipvs.ts) serves every listener. A listener is sampled
 * when its keepalived is alive (its pid file) and it is not disabled, as the reference reports
 * them; its layout comes from the state (worked out when its config was installed), or, for a
 * state written by an older agent, from its config file, read once per installed config. The
 * status rules are in lvs-status.ts.
 *
 * IPVS is read only when a sampled listener has a virtual server. A kernel without IPVS reads as
 * an empty table (logged once): the listeners report as the reference reports a listener whose
 * virtual servers it cannot find. Any other ipvsadm failure (timeout, missing binary) rejects,
 * as the reference's heartbeat is then not sent.
 */
import type { LiveConfig } from '../../config/startup.js';
import type { Logger } from '../../log.js';
import { parseLvsLayout, type LvsLayout } from '../../model/lvs-layout.js';
import type { Uuid } from '../../model/uuid.js';
import type { ProcessRunner } from '../../system/exec.js';
import { readIfExists } from '../../system/files.js';
import { readIpvs, type IpvsVirtualServer } from '../../system/ipvs.js';
import type { Paths } from '../../system/paths.js';
import { pidFileState } from '../../system/processes.js';
import { lvsIdentity } from '../daemon-specs.js';
import { contentHash } from '../digest.js';
import type { LvsListenerState, StateStore } from '../state.js';
import { indexIpvs, lvsListenerSample } from './lvs-status.js';
import type { LvsListenerSample, LvsSampler } from './samples.js';

export interface LvsSamplerDeps {
  readonly config: () => LiveConfig;
  readonly paths: Paths;
  readonly runner: ProcessRunner;
  readonly state: StateStore;
  readonly log: Logger;
}

interface Sampled {
  readonly entry: LvsListenerState;
  readonly layout: LvsLayout;
  /** Hash of the installed config (the one the layout is of). */
  readonly installedHash: string;
}

export class LvsIpvsSampler implements LvsSampler {
  /** Layouts read from config files, for state entries without one: listener id → installed hash and layout. */
  private readonly readLayouts = new Map<string, { hash: string; layout: LvsLayout }>();
  private ipvsMissingLogged = false;

  constructor(private readonly deps: LvsSamplerDeps) {}

  async sample(): Promise<LvsListenerSample[]> {
    const entries = Object.values(this.deps.state.current.lvsListeners);
    const ids = new Set(entries.map((e) => e.id));
    for (const id of this.readLayouts.keys()) if (!ids.has(id)) this.readLayouts.delete(id);
    const found = await Promise.all(entries.map((e) => this.sampled(e)));
    const listeners = found.filter((s): s is Sampled => s !== undefined && !s.layout.listenerDisabled);
    // indexed once: each listener then finds its virtual servers without scanning the table
    const ipvs = indexIpvs(listeners.some((l) => l.layout.virtualServers.length > 0) ? await this.lookAtIpvs() : []);
    return listeners.map(({ entry, layout, installedHash }) =>
      lvsListenerSample({ id: entry.id, protocol: entry.protocol, layout, ipvs, restarting: entry.applied?.hash !== installedHash }),
    );
  }

  /** The listener and its layout when its keepalived runs; undefined otherwise. */
  private async sampled(entry: LvsListenerState): Promise<Sampled | undefined> {
    const { paths } = this.deps;
    if ((await pidFileState(paths, paths.lvsPidFile(entry.id as Uuid), lvsIdentity(paths, entry.id as Uuid))) !== 'alive') return undefined;
    const installed = entry.installed;
    if (installed?.layout !== undefined) return { entry, layout: installed.layout, installedHash: installed.hash };
    const known = this.readLayouts.get(entry.id);
    if (known !== undefined && installed !== null && known.hash === installed.hash) return { entry, layout: known.layout, installedHash: known.hash };
    const text = await readIfExists(paths.lvsConfig(entry.id as Uuid));
    // the reference lists listeners by their config files: none, no listener
    if (text === undefined) return undefined;
    const hash = installed?.hash ?? contentHash(text);
    const layout = parseLvsLayout(text);
    this.readLayouts.set(entry.id, { hash, layout });
    return { entry, layout, installedHash: hash };
  }

  private async lookAtIpvs(): Promise<readonly IpvsVirtualServer[]> {
    const look = await readIpvs(this.deps.runner, this.deps.config().amphora_agent.ipvsadm_cmd, this.deps.paths.namespace);
    if (look.kind === 'table') {
      this.ipvsMissingLogged = false;
      return look.virtualServers;
    }
    if (!this.ipvsMissingLogged) this.deps.log.warn({ reason: look.reason }, 'no IPVS in this kernel: LVS listeners report no virtual server');
    this.ipvsMissingLogged = true;
    return [];
  }
}
