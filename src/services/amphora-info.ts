/**
 * @module services/amphora-info
 * GET /1.0/info and GET /1.0/details. Versions are cached (PackageVersions); details reads host
 * figures, namespace counters and the listener registry, and reports the configured topology
 * (the reference always says SINGLE). Numbers are numbers (the reference sends some as strings).
 */
import type { LiveConfig } from '../config/startup.js';
import type { HostStats } from '../system/host-stats.js';
import type { Paths } from '../system/paths.js';
import { pidFileState, type DaemonIdentity } from '../system/processes.js';
import { haproxyIdentity, lvsIdentity } from './daemon-specs.js';
import type { Uuid } from '../model/uuid.js';
import type { ComponentVersions, PackageVersions } from './package-versions.js';
import type { StateStore } from './state.js';

export const API_VERSION = '1.0';

export interface AmphoraInfoDeps {
  readonly versions: PackageVersions;
  readonly host: HostStats;
  readonly state: StateStore;
  readonly paths: Paths;
  readonly config: () => LiveConfig;
}

function versionFields(v: ComponentVersions) {
  return {
    haproxy_version: v.versions.haproxy,
    keepalived_version: v.versions.keepalived,
    ipvsadm_version: v.versions.ipvsadm,
    ...(Object.keys(v.unavailable).length > 0 ? { unavailable: v.unavailable } : {}),
  };
}

export class AmphoraInfo {
  constructor(private readonly deps: AmphoraInfoDeps) {}

  async info() {
    const versions = await this.deps.versions.get();
    return { hostname: this.deps.host.hostname(), ...versionFields(versions), api_version: API_VERSION };
  }

  async details() {
    const { host, state } = this.deps;
    const config = this.deps.config();
    const [versions, cpu, memory, disk, networks, counts] = await Promise.all([
      this.deps.versions.get(),
      host.cpu(),
      host.memory(),
      host.disk(),
      host.namespaceInterfaces(this.deps.paths.namespace),
      this.processCounts(),
    ]);
    return {
      hostname: host.hostname(),
      ...versionFields(versions),
      api_version: API_VERSION,
      active: true,
      topology: config.controller_worker.loadbalancer_topology,
      topology_status: 'OK',
      packages: {},
      cpu,
      memory,
      disk,
      load: host.load(),
      networks,
      listeners: state.listenerIds(),
      haproxy_count: counts.haproxy,
      lvs_listener_process_count: counts.lvs,
    };
  }

  private async processCounts(): Promise<{ haproxy: number; lvs: number }> {
    const { state, paths } = this.deps;
    const alive = async (daemons: DaemonIdentity[]) =>
      (await Promise.all(daemons.map((d) => pidFileState(paths, d.pidFile, d)))).filter((s) => s === 'alive').length;
    const current = state.current;
    const [haproxy, lvs] = await Promise.all([
      alive(Object.keys(current.loadBalancers).map((id) => haproxyIdentity(paths, id as Uuid))),
      alive(Object.keys(current.lvsListeners).map((id) => lvsIdentity(paths, id as Uuid))),
    ]);
    return { haproxy, lvs };
  }
}
