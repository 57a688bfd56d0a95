/**
 * Builds `createApp` over a temporary root with fakes for the process runner and host figures,
 * for supertest. Real services, real files; only the commands and /proc figures are scripted.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../src/api/app.js';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/log.js';
import { AgentConfigService } from '../../src/services/agent-config.js';
import { AmphoraInfo } from '../../src/services/amphora-info.js';
import { PackageVersions } from '../../src/services/package-versions.js';
import { ServerCertificate } from '../../src/services/server-certificate.js';
import { StateStore } from '../../src/services/state.js';
import { createPaths } from '../../src/system/paths.js';
import { FakeHostStats } from '../fakes/fake-host-stats.js';
import { FakeRunner } from '../fakes/fake-runner.js';

export async function apiApp(extraConfig = '') {
  const root = await mkdtemp(join(tmpdir(), 'api-'));
  const configFile = join(root, 'amphora-agent.conf');
  await writeFile(
    configFile,
    `[haproxy_amphora]\nbase_path = ${root}/lib\nbase_cert_dir = ${root}/lib/certs\n[amphora_agent]\nagent_server_cert = ${root}/server.pem\nagent_server_ca = ${root}/ca.pem\nproc_dir = ${root}/proc\n${extraConfig}`,
  );
  const loaded = await loadConfig([configFile]);
  const log = silentLogger();
  const runner = new FakeRunner()
    .on(['dpkg-query', '-W', '-f=${db:Status-Status} ${Version}', 'haproxy'], { stdout: 'installed 2.6.12-1+deb12u4' })
    .on(['dpkg-query', '-W', '-f=${db:Status-Status} ${Version}', 'keepalived'], { stdout: 'installed 1:2.2.7-1+b2' })
    .on(['dpkg-query', '-W', '-f=${db:Status-Status} ${Version}', 'ipvsadm'], { stdout: 'installed 1:1.31-1+b1' });
  const paths = createPaths(loaded.config);
  const state = new StateStore(paths.stateFile);
  await state.load();
  const agentConfig = new AgentConfigService([configFile], loaded, log);
  const host = new FakeHostStats({ eth1: { network_tx: 5, network_rx: 7 } });
  let tlsReloads = 0;
  const app = createApp({
    log,
    info: new AmphoraInfo({ versions: new PackageVersions(runner, '/usr/sbin/haproxy'), host, state, paths, config: () => agentConfig.current }),
    agentConfig,
    certificate: new ServerCertificate({
      certPath: () => agentConfig.current.amphora_agent.agent_server_cert,
      reloadTls: async () => void tlsReloads++,
      log,
    }),
  });
  return { app, root, configFile, runner, host, state, paths, agentConfig, tlsReloads: () => tlsReloads };
}
