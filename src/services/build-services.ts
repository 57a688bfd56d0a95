/**
 * @module services/build-services
 * Builds every service from the seams it is given (process runner, paths, init adapter, host
 * figures, state) and the live configuration. main.ts calls it with the real seams, the API tests
 * (test/support/api-app.ts) with fakes, so both run the same wiring. It constructs no concrete
 * system object itself.
 */
import type { Logger } from '../log.js';
import type { ProcessRunner } from '../system/exec.js';
import type { HostStats } from '../system/host-stats.js';
import type { InitSystem } from '../system/init/types.js';
import type { Paths } from '../system/paths.js';
import type { DatagramSender } from '../system/udp-datagrams.js';
import type { AgentConfigService } from './agent-config.js';
import { AgentDirectories } from './agent-directories.js';
import { AmphoraInfo } from './amphora-info.js';
import { StagedApply } from './apply/staged-apply.js';
import { LoadBalancerCertificates } from './certificates.js';
import { CheckScripts } from './check-scripts.js';
import { DaemonLogs } from './daemon-logs.js';
import { DaemonRestartCounts, DaemonRevival } from './daemon-revival.js';
import type { DaemonServiceDeps } from './daemon-service.js';
import { DaemonSpecs } from './daemon-specs.js';
import { HaproxyLoadBalancers } from './haproxy-lbs.js';
import { IpvsSync } from './ipvs-sync.js';
import { KeyedLock } from './keyed-lock.js';
import { buildHeartbeat } from './heartbeat/build.js';
import { heartbeatSettingsChanged } from './heartbeat/loop.js';
import { ListenerModels } from './listener-models.js';
import { LvsListeners } from './lvs-listeners.js';
import { AmphoraNamespace } from './namespace.js';
import { buildNetwork } from './network/build.js';
import { NamespaceInterfaces } from './network/interfaces.js';
import { VipFirewall } from './network/vip-firewall.js';
import { OnePacketNat } from './one-packet-nat.js';
import type { PackageVersions } from './package-versions.js';
import { ServerCertificate } from './server-certificate.js';
import type { StateStore } from './state.js';
import { HaproxyStatsSampler } from './telemetry/haproxy-sampler.js';
import { LvsIpvsSampler } from './telemetry/lvs-sampler.js';
import { Vrrp } from './vrrp.js';

export interface ServiceSeams {
  readonly agentConfig: AgentConfigService;
  readonly paths: Paths;
  readonly runner: ProcessRunner;
  readonly init: InitSystem;
  readonly state: StateStore;
  readonly host: HostStats;
  readonly versions: PackageVersions;
  /** Re-reads the TLS material so that the next handshake uses it. */
  readonly reloadTls: () => Promise<void>;
  /** plug: the agent's own namespace as `ip link set … netns` names it (its pid; a test's namespace name). */
  readonly homeNetns?: string;
  /** boot: the agent as the netns units must run it (`node <cli> --config-file F …`); see AmphoraNamespace. */
  readonly bootCommand?: readonly string[] | undefined;
  /** heartbeat: the UDP sockets the heartbeats leave by (system/udp-datagrams.ts). */
  readonly datagrams: DatagramSender;
  readonly log: Logger;
}


export function buildServices(seams: ServiceSeams) {
  const { agentConfig, paths, runner, init, state, log } = seams;
  const config = () => agentConfig.current;
  const namespace = new AmphoraNamespace(config, paths, runner, seams.bootCommand, log.child({ component: 'namespace' }));
  const specs = new DaemonSpecs(config, paths);
  const scripts = new CheckScripts(paths, state);
  // the daemons' console logs: the start/reload waits and the rotation job take turns (jobs/)
  const logs = new DaemonLogs(paths);
  const applier = new StagedApply({
    init,
    paths,
    namespace,
    netnsUnit: () => specs.netns(),
    settleMs: () => config().amphora_agent.process_settle_seconds * 1000,
    readyTimeoutMs: () => config().amphora_agent.process_ready_timeout * 1000,
    logs,
    log: log.child({ component: 'apply' }),
  });
  // issue 14 (fault 8): one lock per listener or load balancer id, shared by API 1.0 and 2.0
  const objectLocks = new KeyedLock();
  const daemonDeps = (component: string): DaemonServiceDeps => ({ config, paths, runner, init, specs, scripts, state, applier, logs, objectLocks, log: log.child({ component }) });
  const lvs = new LvsListeners(daemonDeps('lvs'));
  const haproxy = new HaproxyLoadBalancers(daemonDeps('haproxy'));
  // the namespace's interfaces and the SR-IOV VIP firewall (GET /1.0/interface, PUT .../rules)
  const interfaces = new NamespaceInterfaces({ config, paths, runner });
  const vipFirewall = new VipFirewall({ config, paths, runner, interfaces, log: log.child({ component: 'vip-firewall' }) });
  const onePacketNat = new OnePacketNat({ config, paths, runner, log: log.child({ component: 'one-packet-nat' }) });
  // plug vip / plug network and the interface bring-up; bind_host is a startup option: the
  // address the listening socket was bound to when the services were built
  const bindHost = agentConfig.current.haproxy_amphora.bind_host;
  const network = buildNetwork({ config, paths, runner, namespace, homeNetns: seams.homeNetns ?? String(process.pid), bindHost, vipFirewall, log: log.child({ component: 'network' }) });
  // boot: a namespace the agent had to create (reboot, namespace lost) gets its interfaces back
  namespace.restoreWith(() => network.interfacesBoot.restore());
  // one pair of samplers, read by the heartbeat and by the metrics listener (main.ts)
  const samplers = {
    lvs: new LvsIpvsSampler({ config, paths, runner, state, log: log.child({ component: 'lvs-sampler' }) }),
    haproxy: new HaproxyStatsSampler({ state, paths, log: log.child({ component: 'haproxy-sampler' }) }),
  };
  // heartbeat: started and stopped by main.ts; PUT /1.0/config applies its options at once
  const heartbeat = buildHeartbeat({
    config,
    paths,
    knownListeners: () => state.listenerIds(),
    samplers,
    datagrams: seams.datagrams,
    log: log.child({ component: 'heartbeat' }),
  });
  agentConfig.onChange((next, previous) => {
    if (heartbeatSettingsChanged(next, previous)) heartbeat.settingsChanged();
  });
  return {
    agentConfig,
    plugs: network.plugs,
    interfacesBoot: network.interfacesBoot,
    namespace,
    specs,
    scripts,
    logs,
    lvs,
    haproxy,
    lbCertificates: new LoadBalancerCertificates(paths),
    // issue 14 (fault 10): stale temp files and unsafe directories, looked at once at startup
    directories: new AgentDirectories(paths, config, log.child({ component: 'directories' })),
    vrrp: new Vrrp(daemonDeps('vrrp'), new IpvsSync({ config, paths, runner, log: log.child({ component: 'ipvs-sync' }) })),
    onePacketNat,
    interfaces,
    vipFirewall,
    models: new ListenerModels({ config, paths, runner, state, scripts, applier, specs, lvs, haproxy, onePacketNat, objectLocks, log: log.child({ component: 'models' }) }),
    info: new AmphoraInfo({ versions: seams.versions, host: seams.host, state, paths, config }),
    samplers,
    heartbeat,
    certificate: new ServerCertificate({ config, reloadTls: seams.reloadTls, log: log.child({ component: 'certificate' }) }),
    // --- daemon restarts (issue 14 item 13): the reconcile job restarts through the owners' locks ---
    revival: new DaemonRevival({ lvs, haproxy }),
    restarts: new DaemonRestartCounts(),
    // --- end daemon restarts ---
  };
}

export type Services = ReturnType<typeof buildServices>;
