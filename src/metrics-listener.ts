/**
 * @module metrics-listener
 * The Prometheus metrics listener (`[prometheus]`, docs/design/0007-metrics.md), built by main.ts
 * when it is enabled: a socket of its own, apart from the API's, that answers GET /metrics only
 * (api/metrics.ts) from one AgentMetrics registry (services/metrics). With `tls` it is an HTTPS
 * server with the API's material and rule (agent_server_cert presented, a client certificate
 * required from `[prometheus] client_ca`, or agent_server_ca when that is empty, and
 * agent_tls_protocol as the minimum), whose material main reloads with the API's; without, plain HTTP, which config/cross-checks allows on loopback only. main.ts
 * loads this module only when the listener is enabled, so an agent without it never loads
 * prom-client.
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { metricsHandler } from './api/metrics.js';
import { CONNECTION_LIMITS, guardConnections, serverTimeouts, type ConnectionLimits } from './connection-guard.js';
import { closeServer, listen } from './http-servers.js';
import { isLoopback } from './config/cross-checks.js';
import type { AgentConfig } from './config/schema.js';
import type { Logger } from './log.js';
import { ConfigError } from './model/errors.js';
import { AgentMetrics, type AgentMetricsDeps } from './services/metrics/agent-metrics.js';
import { loadMetricsTls } from './system/tls.js';
import { logTlsRefusals } from './tls-refusals.js';

export interface MetricsListener {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  /**
   * Reads the TLS material again for the next handshakes (a no-op without TLS): the live
   * certificate, CA and protocol options, with this listener's startup `[prometheus]` options.
   */
  reloadTls(live: AgentConfig): Promise<void>;
  close(): Promise<void>;
}

/** A scrape is small and quick; a client that takes longer than this to send one is dropped. */
const REQUEST_TIMEOUT_MS = 30_000;

async function createServer(config: AgentConfig, limits: ConnectionLimits, log: Logger): Promise<HttpServer | HttpsServer> {
  const { bind_host: host, tls } = config.prometheus;
  // the same bounds as the API's (connection-guard.ts): the listener has the same exposure
  const timeouts = serverTimeouts(limits, REQUEST_TIMEOUT_MS);
  if (!tls) {
    // config/load refuses such a file already; this keeps a hand-built config from exposing the port
    if (!isLoopback(host)) throw new ConfigError(`[prometheus] tls = false needs a loopback bind_host, not ${host ?? 'none'}`);
    const server = createHttpServer(timeouts);
    guardConnections(server, 'request', limits, log);
    return server;
  }
  const server = createHttpsServer({ ...(await loadMetricsTls(config)), requestCert: true, rejectUnauthorized: true, ...timeouts });
  logTlsRefusals(server, log, 'metrics: TLS handshake refused');
  guardConnections(server, 'secureConnection', limits, log);
  return server;
}

export async function startMetricsListener(config: AgentConfig, sources: Omit<AgentMetricsDeps, 'log'>, log: Logger, limits: ConnectionLimits = CONNECTION_LIMITS): Promise<MetricsListener> {
  const server = await createServer(config, limits, log);
  server.on('request', metricsHandler(new AgentMetrics({ ...sources, log }), log));
  const host = config.prometheus.bind_host ?? '127.0.0.1';
  const bindPort = config.prometheus.bind_port;
  await listen(server, host, bindPort).catch((err: Error) => {
    throw new Error(`the metrics listener ([prometheus] bind_host ${host}, bind_port ${bindPort}) cannot listen: ${err.message}`, { cause: err });
  });
  const port = (server.address() as AddressInfo).port;
  const tls = config.prometheus.tls;
  log.info({ host, port, tls }, tls ? 'metrics listening (mutual TLS)' : 'metrics listening (plain HTTP, loopback)');
  return {
    host,
    port,
    tls,
    reloadTls: async (live) => {
      // [prometheus] options are read at startup: a new client_ca path waits for the next start
      if ('setSecureContext' in server) server.setSecureContext(await loadMetricsTls({ ...live, prometheus: config.prometheus }));
    },
    close: () => closeServer(server),
  };
}
