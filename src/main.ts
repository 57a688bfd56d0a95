/**
 * @module main
 * Composition root: the only module that imports concrete `system/*` code. It loads the
 * configuration, builds the services, creates the mutual-TLS HTTPS server and wires live
 * configuration changes (log level, TLS material, timeouts) to the running objects.
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createApp } from './api/app.js';
import { loadConfig } from './config/load.js';
import type { AgentConfig } from './config/schema.js';
import { createLogger, type Logger } from './log.js';
import { AgentConfigService } from './services/agent-config.js';
import { AmphoraInfo } from './services/amphora-info.js';
import { PackageVersions } from './services/package-versions.js';
import { CheckScripts } from './services/check-scripts.js';
import { KeepalivedDaemons } from './services/keepalived-daemons.js';
import { HaproxyDaemons } from './services/haproxy-daemons.js';
import { HaproxyLoadBalancers } from './services/haproxy-lbs.js';
import { ListenerModels } from './services/listener-models.js';
import { LvsListeners } from './services/lvs-listeners.js';
import { OnePacketNat } from './services/one-packet-nat.js';
import { ServerCertificate } from './services/server-certificate.js';
import { Vrrp } from './services/vrrp.js';
import { createInitSystem, detectInitKind } from './system/init/detect.js';
import { StateStore } from './services/state.js';
import { ExecaRunner, type ProcessRunner } from './system/exec.js';
import { LinuxHostStats } from './system/host-stats.js';
import { createPaths } from './system/paths.js';
import { loadServerTls } from './system/tls.js';

export interface StartOptions {
  readonly configFiles: readonly string[];
  /** Defaults to a pino logger built from the configuration. */
  readonly log?: Logger;
  /** Defaults to the real execa runner. */
  readonly runner?: ProcessRunner;
}

export interface AgentHandle {
  readonly server: Server;
  readonly port: number;
  readonly config: AgentConfigService;
  readonly log: Logger;
  close(): Promise<void>;
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export async function startAgent(options: StartOptions): Promise<AgentHandle> {
  const loaded = await loadConfig(options.configFiles);
  const config = loaded.config;
  const log = options.log ?? createLogger({ debug: config.DEFAULT.debug, file: config.DEFAULT.log_file });
  if (loaded.unknown.length > 0) log.debug({ options: loaded.unknown }, 'ignoring options this agent does not use');

  const runner = options.runner ?? new ExecaRunner(log.child({ component: 'exec' }), config.amphora_agent.command_timeout * 1000);
  const paths = createPaths(config);
  const state = new StateStore(paths.stateFile);
  await state.load();
  const agentConfig = new AgentConfigService(options.configFiles, loaded, log.child({ component: 'config' }));
  const current = (): AgentConfig => agentConfig.current;

  const server = createServer({ ...(await loadServerTls(config)), requestCert: true, rejectUnauthorized: true });
  const reloadTls = async (): Promise<void> => server.setSecureContext(await loadServerTls(current()));
  const versions = new PackageVersions(runner, config.haproxy_amphora.haproxy_cmd);
  const initKind = await detectInitKind(config, runner, log);
  const init = createInitSystem(initKind, config, runner, paths, log.child({ component: 'init' }));
  const daemons = new KeepalivedDaemons(config, paths);
  const scripts = new CheckScripts(config, paths, state, runner);
  const keepalivedDeps = { config: current, paths, runner, init, daemons, scripts, state };

  const lvs = new LvsListeners({ ...keepalivedDeps, log: log.child({ component: 'lvs' }) });
  const haproxyDaemons = new HaproxyDaemons(config, paths);
  const haproxy = new HaproxyLoadBalancers({ ...keepalivedDeps, daemons: haproxyDaemons, log: log.child({ component: 'haproxy' }) });
  const onePacketNat = new OnePacketNat({ config: current, runner, log: log.child({ component: 'one-packet-nat' }) });
  const models = new ListenerModels({ config: current, paths, runner, state, scripts, lvs, haproxy, haproxyDaemons, onePacketNat, log: log.child({ component: 'models' }) });
  const app = createApp({
    log: log.child({ component: 'api' }),
    info: new AmphoraInfo({ versions, host: new LinuxHostStats(runner, paths.procDir), state, paths, config: current }),
    agentConfig,
    certificate: new ServerCertificate({ certPath: () => current().amphora_agent.agent_server_cert, reloadTls, log: log.child({ component: 'certificate' }) }),
    lvs,
    vrrp: new Vrrp({ ...keepalivedDeps, log: log.child({ component: 'vrrp' }) }),
    models,
    haproxy,
  });
  server.on('request', app);
  server.requestTimeout = config.amphora_agent.agent_request_read_timeout * 1000;
  // A client certificate that fails verification (unknown CA, expired) makes Node destroy the socket
  // without an error of its own ("socket hang up"); the verify result is on the socket.
  server.on('tlsClientError', (err, socket) => {
    const verify: unknown = socket.authorizationError;
    const reason = verify ? `client certificate refused: ${String(verify)}` : err.message;
    log.info({ remote: socket.remoteAddress, reason }, 'TLS handshake refused');
  });

  // Refuse (400) a new configuration whose TLS material cannot be loaded, before it is written.
  agentConfig.check(async (next) => void (await loadServerTls(next)));
  agentConfig.onChange(async (next, previous) => {
    // [DEFAULT] debug steers only the logger built here; a logger the caller passed keeps its level.
    if (options.log === undefined) log.level = next.DEFAULT.debug ? 'debug' : 'info';
    server.requestTimeout = next.amphora_agent.agent_request_read_timeout * 1000;
    const a = previous.amphora_agent;
    const b = next.amphora_agent;
    if (a.agent_tls_protocol !== b.agent_tls_protocol || a.agent_server_cert !== b.agent_server_cert || a.agent_server_ca !== b.agent_server_ca) {
      await reloadTls();
    }
  });

  await listen(server, config.haproxy_amphora.bind_host ?? '::', config.haproxy_amphora.bind_port);
  const port = (server.address() as AddressInfo).port;
  log.info({ host: config.haproxy_amphora.bind_host, port, files: options.configFiles, init: initKind }, 'amphora agent listening');
  // Ask the package manager off the request path, so that the first /info is fast.
  void scripts.scriptDirectoryProblems().then(
    (problems) => problems.length > 0 && log.warn({ problems }, 'keepalived will refuse check scripts under base_path: make these directories root-owned and not group/other-writable'),
    (err: unknown) => log.warn({ err }, 'cannot check base_path permissions'),
  );
  // A reboot leaves a new, empty namespace: put back the reply rewrites of ONE_PACKET_SCHEDULING
  // listeners (nothing runs when there are none).
  onePacketNat.restore(() => models.all());
  // A second later, so that three dpkg-query runs do not compete with the controller's first
  // requests; an earlier /info starts it itself (get() is memoized).
  setTimeout(() => void versions.get().catch((err: unknown) => log.warn({ err }, 'version discovery failed')), 1000).unref();

  return {
    server,
    port,
    config: agentConfig,
    log,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
