/**
 * Builds `createApp` over a temporary root with fakes for the process runner, the init system
 * and host figures, for supertest. The services are wired by the production `buildServices`;
 * real files; only the commands, daemons and /proc figures are scripted.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../src/api/app.js';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/log.js';
import { AgentConfigService } from '../../src/services/agent-config.js';
import { buildServices } from '../../src/services/build-services.js';
import { PackageVersions } from '../../src/services/package-versions.js';
import { StateStore } from '../../src/services/state.js';
import { createPaths } from '../../src/system/paths.js';
import type { DatagramSender } from '../../src/system/udp-datagrams.js';
import { FakeDatagrams } from '../fakes/fake-datagrams.js';
import { FakeHostStats } from '../fakes/fake-host-stats.js';
import { FakeInit } from '../fakes/fake-init.js';
import { FakeRunner } from '../fakes/fake-runner.js';
import { FakeTc } from '../fakes/fake-tc.js';

// plug: interface files, plugged_interfaces and sysfs (the PCI rescan file) under the test root
const PLUG_CONFIG = (root: string) => `agent_server_network_dir = ${root}/interfaces\nplugged_interfaces_file = ${root}/lib/plugged_interfaces\nsys_dir = ${root}/sys\n`;

export interface ApiAppOptions {
  /** heartbeat: the sockets heartbeats leave by (default: a FakeDatagrams that records them). */
  readonly datagrams?: DatagramSender;
}

// Every app's root goes after the test file that made it (this module is evaluated once per test
// file, at collection, so the hook is that file's); they were left in the temp directory before,
// about a thousand per run.
const roots = new Set<string>();
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

export async function apiApp(extraConfig = '', options: ApiAppOptions = {}) {
  const root = await mkdtemp(join(tmpdir(), 'api-'));
  roots.add(root);
  const configFile = join(root, 'amphora-agent.conf');
  await writeFile(
    configFile,
    `[haproxy_amphora]\nbase_path = ${root}/lib\nbase_cert_dir = ${root}/lib/certs\n[amphora_agent]\nagent_server_cert = ${root}/server.pem\nagent_server_ca = ${root}/ca.pem\nproc_dir = ${root}/proc\nnetns_run_dir = ${root}/netns\nhaproxy_user_group_file = ${root}/lib/haproxy-default-user-group.conf\nprocess_settle_seconds = 0\nprocess_ready_timeout = 2\n${PLUG_CONFIG(root)}${extraConfig}`,
  );
  const loaded = await loadConfig([configFile]);
  const log = silentLogger();
  const runner = new FakeRunner()
    .on(['dpkg-query', '-W', '-f=${db:Status-Status} ${Version}', 'haproxy'], { stdout: 'installed 2.6.12-1+deb12u4' })
    .on(['dpkg-query', '-W', '-f=${db:Status-Status} ${Version}', 'keepalived'], { stdout: 'installed 1:2.2.7-1+b2' })
    .on(['dpkg-query', '-W', '-f=${db:Status-Status} ${Version}', 'ipvsadm'], { stdout: 'installed 1:1.31-1+b1' })
    .on(['/usr/sbin/keepalived', '--config-test'], { exitCode: 0 })
    // the fake kernel: every IPVS service a started keepalived should have made is there
    // (a test of a start whose services never come scripts this to fail)
    .on(['/usr/sbin/ipvsadm', '-L', '-n'], { exitCode: 0 })
    .on(['/usr/sbin/haproxy', '-c'], { exitCode: 0, stdout: 'Configuration file is valid' })
    // the namespace setup script: `ip netns add` mounts the namespace under netns_run_dir
    .on(['/bin/sh'], () => {
      mkdirSync(join(root, 'netns'), { recursive: true });
      writeFileSync(join(root, 'netns', 'amphora-haproxy'), '');
      return { exitCode: 0 };
    });
  // the amphora namespace as tc sees it, for the ONE_PACKET_SCHEDULING reply rewrites
  const tc = new FakeTc(runner);
  const paths = createPaths(loaded.config);
  const state = new StateStore(paths.stateFile);
  await state.load();
  const agentConfig = new AgentConfigService([configFile], loaded, log);
  const host = new FakeHostStats({ eth1: { network_tx: 5, network_rx: 7 } });
  let tlsReloads = 0;
  const init = new FakeInit(paths.procDir);
  const services = buildServices({
    agentConfig,
    paths,
    runner,
    init,
    state,
    host,
    versions: new PackageVersions(runner, () => agentConfig.current.haproxy_amphora.haproxy_cmd),
    reloadTls: async () => void tlsReloads++,
    datagrams: options.datagrams ?? new FakeDatagrams(),
    log,
  });
  const app = createApp({ ...services, log });
  return { app, root, configFile, runner, host, state, paths, agentConfig, init, specs: services.specs, scripts: services.scripts, heartbeat: services.heartbeat, tc, tlsReloads: () => tlsReloads, revival: services.revival };
}
