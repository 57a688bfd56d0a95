/**
 * @module main
 * Composition root: the only module that imports concrete `system/*` code. It loads the
 * configuration, builds the seams (process runner, paths, init adapter, host figures) and the
 * services (services/build-services), creates the mutual-TLS HTTPS server and wires live
 * configuration changes (log level, TLS material, timeouts) to the running objects. What it reads
 * from the configuration here is read once (config/startup.ts); services read the rest live.
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createApp } from './api/app.js';
import { loadConfig } from './config/load.js';
import type { AgentConfig } from './config/schema.js';
import { createLogger, type Logger } from './log.js';
import { buildJobs } from './jobs/index.js';
import { isConfigToken } from './model/config-token.js';
import { ConfigError, NamespaceMissing } from './model/errors.js';
import { unitRenderer } from './render/init-units.js';
import { AgentConfigService } from './services/agent-config.js';
import { buildServices, type Services } from './services/build-services.js';
import { AmphoraNamespace } from './services/namespace.js';
import { buildStandaloneNetwork } from './services/network/build.js';
import type { BootResult } from './services/network/interfaces-boot.js';
import { PackageVersions } from './services/package-versions.js';
import { StateStore } from './services/state.js';
import { ExecaRunner, type ProcessRunner } from './system/exec.js';
import { exists } from './system/files.js';
import { LinuxHostStats } from './system/host-stats.js';
import { createInitSystem, detectInitKind } from './system/init/detect.js';
import { createPaths, type Paths } from './system/paths.js';
import { checkRequesterTrusted, loadProvenMetricsTls, loadProvenServerTls, loadServerTls } from './system/tls.js';
import { listenProblem, sameListenAddress, type ListenAddress } from './system/net/listen-check.js';
import { UdpDatagramSender } from './system/udp-datagrams.js';
// --- metrics ---
import type { MetricsListener } from './metrics-listener.js';
import type { DaemonSpecs } from './services/daemon-specs.js';
import type { DaemonRestartCounts } from './services/daemon-revival.js';
import { closeServer, listen } from './http-servers.js';
import { DaemonLivenessReader } from './services/metrics/daemon-liveness.js';
import type { HaproxySampler, LvsSampler } from './services/telemetry/samples.js';
// --- end metrics ---
// --- connection bounds ---
import { CONNECTION_LIMITS, guardConnections, serverTimeouts, type ConnectionCounts, type ConnectionLimits } from './connection-guard.js';
import { logTlsRefusals } from './tls-refusals.js';
// --- end connection bounds ---

export interface StartOptions {
  readonly configFiles: readonly string[];
  /** Defaults to a pino logger built from the configuration. */
  readonly log?: Logger;
  /** Defaults to the real execa runner. */
  readonly runner?: ProcessRunner;
  /**
   * How the netns units run this agent (`node <cli> --config-file F …`, cli.ts): rendered into
   * the namespace setup script, which runs its `interfaces up` after a reboot. Without it (an
   * embedded agent) the script only creates the namespace.
   */
  readonly bootCommand?: readonly string[];
  /** Defaults to CONNECTION_LIMITS (connection-guard.ts); tests lower them to flood with fewer sockets. */
  readonly connectionLimits?: ConnectionLimits;
}

export interface AgentHandle {
  readonly server: Server;
  readonly port: number;
  readonly config: AgentConfigService;
  readonly log: Logger;
  /** The Prometheus metrics listener, when `[prometheus] enabled`. */
  readonly metrics: MetricsListener | undefined;
  /** The API server's connections, as the connection guard counts them. */
  readonly connections: ConnectionCounts;
  close(): Promise<void>;
}

async function createTlsServer(config: AgentConfig, limits: ConnectionLimits, log: Logger): Promise<{ server: Server; connections: ConnectionCounts }> {
  const requestTimeoutMs = config.amphora_agent.agent_request_read_timeout * 1000;
  const server = createServer({ ...(await loadServerTls(config)), requestCert: true, rejectUnauthorized: true, ...serverTimeouts(limits, requestTimeoutMs) });
  logTlsRefusals(server, log, 'TLS handshake refused');
  // bounded in time and number: connections that never finish a handshake cannot hold the agent
  return { server, connections: guardConnections(server, 'secureConnection', limits, log.child({ component: 'connections' })) };
}

/** Live changes of PUT /1.0/config that the running objects built here must follow. */
function followConfigChanges(agentConfig: AgentConfigService, server: Server, reloadTls: () => Promise<void>, log: Logger, ownLogger: boolean): void {
  // Refuse (400) a new configuration whose TLS material does not make a working mutual-TLS server
  // (a real loopback handshake, system/tls-proof.ts), before it is written.
  agentConfig.check(async (next) => void (await loadProvenServerTls(next)));
  // ...and whose client CA would refuse the controller that sends it
  agentConfig.check(async (next, requester) => requester && (await checkRequesterTrusted(next, requester.certificates)));
  agentConfig.onChange(async (next, previous) => {
    // [DEFAULT] debug steers only the logger built here; a logger the caller passed keeps its level.
    if (ownLogger) log.level = next.DEFAULT.debug ? 'debug' : 'info';
    server.requestTimeout = next.amphora_agent.agent_request_read_timeout * 1000;
    const a = previous.amphora_agent;
    const b = next.amphora_agent;
    if (a.agent_tls_protocol !== b.agent_tls_protocol || a.agent_server_cert !== b.agent_server_cert || a.agent_server_ca !== b.agent_server_ca) {
      await reloadTls();
    }
  });
}

/**
 * A new bind_host/bind_port must be one the agent can listen on at its next start: tried now
 * (system/net/listen-check.ts), 400 otherwise. The pair it was started with is not tried again.
 */
function checkListenAddress(agentConfig: AgentConfigService, started: ListenAddress, own: ListenAddress, procDir: string): void {
  agentConfig.check(async (next) => {
    const h = next.haproxy_amphora;
    const wanted = { host: h.bind_host ?? '::', port: h.bind_port };
    if (sameListenAddress(wanted, started)) return;
    const problem = await listenProblem(wanted, own, procDir);
    if (problem !== null) throw new ConfigError(`[haproxy_amphora] bind_host = ${wanted.host}, bind_port = ${wanted.port}: ${problem}`);
  });
}

/** Work that must not delay the first answer to the controller. */
function startBackgroundWork(services: Services, versions: PackageVersions, log: Logger): void {
  restoreInterfaces(services, log);
  void services.scripts.scriptDirectoryProblems().then(
    (problems) => problems.length > 0 && log.warn({ problems }, 'keepalived will refuse check scripts under base_path: make these directories root-owned and not group/other-writable'),
    (err: unknown) => log.warn({ err }, 'cannot check base_path permissions'),
  );
  // A reboot leaves a new, empty namespace: put back the reply rewrites of ONE_PACKET_SCHEDULING
  // listeners (nothing runs when there are none).
  services.onePacketNat.restore(() => services.models.all());
  // ... and the IPVS connection sync daemons of a pair whose VRRP keepalived is wanted (ADR 0011)
  // (follow() logs ipvsadm's failures itself; this catches the rest, e.g. an unreadable config)
  services.vrrp.followSync().catch((err: unknown) => log.error({ err }, 'IPVS connection sync: not started at startup'));
  // A second later, so that three dpkg-query runs do not compete with the controller's first
  // requests; an earlier /info starts it itself (get() is memoized).
  setTimeout(() => void versions.get().catch((err: unknown) => log.warn({ err }, 'version discovery failed')), 1000).unref();
}

/**
 * After a reboot the namespace is gone and the plugged NICs are back in this namespace. With a
 * netns unit (systemd, sysvinit, upstart) that unit brings them back; in `direct` mode nothing
 * else does. So when something is plugged the agent makes sure of the namespace: if it has to
 * create it, it brings the interfaces back in-process (AmphoraNamespace's restore hook), under
 * the lock a plug waits on. A failure is logged: the agent stays reachable either way.
 */
function restoreInterfaces(services: Services, log: Logger): void {
  void (async () => {
    if (await services.interfacesBoot.anythingPlugged()) await services.namespace.ensure();
  })().catch((err: unknown) => log.error({ err }, 'cannot set up the namespace and its interfaces at startup'));
}

/** The setup script names the agent's command word by word; a word it cannot carry drops the command (logged). */
function checkedBootCommand(command: readonly string[] | undefined, log: Logger): readonly string[] | undefined {
  const bad = command?.find((a) => !isConfigToken(a));
  if (bad === undefined) return command;
  log.warn({ word: bad }, 'the netns setup script cannot run this agent (a path with spaces or shell characters): after a reboot the agent brings the interfaces back itself when it starts');
  return undefined;
}

/** `amphora-agent --config-file F interfaces up`: the boot bring-up (InterfacesBoot.restore), the same code the agent runs. */
export async function interfacesUp(options: StartOptions): Promise<BootResult> {
  const config = (await loadConfig(options.configFiles)).config;
  const log = options.log ?? createLogger({ debug: config.DEFAULT.debug, file: config.DEFAULT.log_file });
  const runner = options.runner ?? new ExecaRunner(log.child({ component: 'exec' }), () => ({ ipCmd: config.amphora_agent.ip_cmd, timeoutMs: config.amphora_agent.command_timeout * 1000 }));
  const paths = createPaths(config);
  // never created from here: the setup script runs this command, and it must not run it again
  if (!(await exists(paths.netnsFile))) throw new NamespaceMissing(paths.namespace, paths.netnsSetupScript);
  const network = buildStandaloneNetwork({
    config: () => config,
    paths,
    runner,
    namespace: new AmphoraNamespace(() => config, paths, runner),
    homeNetns: String(process.pid),
    bindHost: config.haproxy_amphora.bind_host,
    log: log.child({ component: 'network' }),
  });
  try {
    return await network.interfacesBoot.restore();
  } finally {
    // the file destination is asynchronous and the CLI exits right after this
    await new Promise<void>((resolve) => log.flush(() => resolve()));
  }
}

// --- metrics ---
/**
 * The metrics listener ([prometheus], docs/design/0007-metrics.md), loaded only when enabled so
 * that prom-client costs nothing otherwise. It starts before the API listens; one that cannot
 * start is logged with its reason and the agent runs without it.
 */
async function startMetrics(
  config: AgentConfig,
  samplers: { lvs: LvsSampler; haproxy: HaproxySampler },
  seams: { state: StateStore; specs: DaemonSpecs; paths: Paths; restarts: DaemonRestartCounts },
  limits: ConnectionLimits,
  log: Logger,
): Promise<MetricsListener> {
  const { startMetricsListener } = await import('./metrics-listener.js');
  const metricsLog = log.child({ component: 'metrics' });
  // the heartbeat's samplers: one reader of IPVS and of the stats sockets
  return startMetricsListener(config, { ...samplers, daemons: new DaemonLivenessReader(seams.state, seams.specs, seams.paths), restarts: seams.restarts }, metricsLog, limits);
}
// --- end metrics ---

export async function startAgent(options: StartOptions): Promise<AgentHandle> {
  const loaded = await loadConfig(options.configFiles);
  const config = loaded.config;
  const log = options.log ?? createLogger({ debug: config.DEFAULT.debug, file: config.DEFAULT.log_file });
  if (loaded.unknown.length > 0) log.debug({ options: loaded.unknown }, 'ignoring options this agent does not use');

  const agentConfig = new AgentConfigService(options.configFiles, loaded, log.child({ component: 'config' }));
  const live = () => agentConfig.current;
  const runner = options.runner ?? new ExecaRunner(log.child({ component: 'exec' }), () => ({ ipCmd: live().amphora_agent.ip_cmd, timeoutMs: live().amphora_agent.command_timeout * 1000 }));
  const paths = createPaths(config);
  const state = new StateStore(paths.stateFile);
  await state.load();
  const limits = options.connectionLimits ?? CONNECTION_LIMITS;
  const { server, connections } = await createTlsServer(config, limits, log);
  // every TLS server of the agent (the API's, the metrics listener's) reads the material the
  // config names again at each reload: certificate rotation, PUT /1.0/config
  const tlsReloads: (() => Promise<void>)[] = [async () => server.setSecureContext(await loadServerTls(live()))];
  const reloadTls = async (): Promise<void> => void (await Promise.all(tlsReloads.map((reload) => reload())));
  const initKind = await detectInitKind(config, runner, log);
  const versions = new PackageVersions(runner, () => paths.haproxyCmd);
  const datagrams = new UdpDatagramSender();
  const services = buildServices({
    agentConfig,
    paths,
    runner,
    init: createInitSystem(initKind, config, runner, paths, log.child({ component: 'init' }), unitRenderer),
    state,
    host: new LinuxHostStats(runner, paths.procDir, () => live().amphora_agent.ip_cmd),
    versions,
    reloadTls,
    bootCommand: checkedBootCommand(options.bootCommand, log),
    datagrams,
    log,
  });
  // issue 14 (fault 10): before anything is written, the temp files a crash left go, and
  // directories where a link could be planted are reported
  await services.directories.tidy(options.configFiles).catch((err: unknown) => log.error({ err }, 'cannot look at the directories the agent writes in'));
  // Octavia's plug_lo: lo.json is written at every start
  await services.interfacesBoot.writeLoopback().catch((err: unknown) => log.error({ err }, 'cannot write lo.json'));
  server.on('request', createApp({ ...services, log: log.child({ component: 'api' }) }));
  followConfigChanges(agentConfig, server, reloadTls, log, options.log === undefined);
  // --- metrics ---
  // A metrics listener that cannot listen (its port taken) is logged and left out: the controller's
  // API must come up whatever [prometheus] says, or a PUT /1.0/config could keep the agent down.
  // Unreadable TLS material stays fatal, like the API's: PUT /1.0/config refuses it beforehand.
  const metrics = config.prometheus.enabled
    ? await startMetrics(config, services.samplers, { state, specs: services.specs, paths, restarts: services.restarts }, limits, log).catch((err: unknown) => {
        if (err instanceof ConfigError) throw err;
        log.error({ err }, 'the metrics listener is not started; the agent runs without it');
        return undefined;
      })
    : undefined;
  if (metrics?.tls) tlsReloads.push(() => metrics.reloadTls(live()));
  // a file whose metrics listener could not load its TLS material would stop the agent at its next start
  agentConfig.check(async (next) => void (next.prometheus.enabled && next.prometheus.tls && (await loadProvenMetricsTls(next))));
  // --- end metrics ---

  await listen(server, config.haproxy_amphora.bind_host ?? '::', config.haproxy_amphora.bind_port);
  const port = (server.address() as AddressInfo).port;
  const started = { host: config.haproxy_amphora.bind_host ?? '::', port: config.haproxy_amphora.bind_port };
  checkListenAddress(agentConfig, started, { host: started.host, port }, paths.procDir);
  log.info({ host: config.haproxy_amphora.bind_host, port, files: options.configFiles, init: initKind }, 'amphora agent listening');
  startBackgroundWork(services, versions, log);
  // scheduled jobs (jobs/index.ts): log rotation, dead-daemon reconcile
  const jobs = buildJobs({ state, specs: services.specs, logs: services.logs, paths, config: live, revival: services.revival, restarts: services.restarts, log: log.child({ component: 'jobs' }) });
  jobs.scheduler.start();
  // heartbeat: the first one now, then every heartbeat_interval (services/heartbeat/loop.ts)
  services.heartbeat.start();
  return {
    server,
    port,
    config: agentConfig,
    log,
    metrics,
    connections,
    close: async () => {
      // a rotation under way finishes first
      await jobs.scheduler.stop();
      await Promise.all([
        closeServer(server),
        metrics?.close(),
        // a heartbeat under way ends, then its sockets close
        services.heartbeat.stop().then(() => datagrams.close()),
      ]);
    },
  };
}
