/**
 * @module test/support/service-harness
 * The production wiring (`buildServices`) over a temporary root, for service tests that drive
 * one service directly: the caller chooses the process runner and init system (fakes, or the
 * real ones in the integration tier).
 */
import { parseConfig } from '../../src/config/load.js';
import type { AgentConfig } from '../../src/config/schema.js';
import { silentLogger, type Logger } from '../../src/log.js';
import { AgentConfigService } from '../../src/services/agent-config.js';
import { buildServices } from '../../src/services/build-services.js';
import { PackageVersions } from '../../src/services/package-versions.js';
import { StateStore } from '../../src/services/state.js';
import type { ProcessRunner } from '../../src/system/exec.js';
import type { InitSystem } from '../../src/system/init/types.js';
import { createPaths } from '../../src/system/paths.js';
import { FakeDatagrams } from '../fakes/fake-datagrams.js';
import { FakeHostStats } from '../fakes/fake-host-stats.js';

export interface HarnessOptions {
  /** amphora-agent.conf text (base_path, proc_dir … under the test's root). */
  readonly configText: string;
  readonly runner: ProcessRunner;
  /** Built from the paths, so that a FakeInit can use the configured proc_dir. */
  readonly init: (paths: ReturnType<typeof createPaths>, config: AgentConfig) => InitSystem;
  readonly log?: Logger;
}

export async function serviceHarness(options: HarnessOptions) {
  // interface files and plugged_interfaces under the test's base_path, unless the test names them:
  // a namespace the services create gets its interfaces restored from there (and lo.json written)
  const base = parseConfig([{ path: '/harness.conf', text: options.configText }]).config.haproxy_amphora.base_path;
  const network = `[amphora_agent]\nagent_server_network_dir = ${base}/interfaces\nplugged_interfaces_file = ${base}/plugged_interfaces\n`;
  const loaded = parseConfig([
    { path: '/harness-network.conf', text: network },
    { path: '/harness.conf', text: options.configText },
  ]);
  const config = loaded.config;
  const paths = createPaths(config);
  const state = new StateStore(paths.stateFile);
  await state.load();
  const agentConfig = new AgentConfigService(['/harness.conf'], loaded, silentLogger());
  const init = options.init(paths, config);
  const services = buildServices({
    agentConfig,
    paths,
    runner: options.runner,
    init,
    state,
    host: new FakeHostStats({}),
    versions: new PackageVersions(options.runner, () => config.haproxy_amphora.haproxy_cmd),
    reloadTls: async () => {},
    datagrams: new FakeDatagrams(),
    log: options.log ?? silentLogger(),
  });
  return { config, paths, state, init, ...services };
}
