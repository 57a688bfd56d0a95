/**
 * VipFirewall's boot and plug entry points (services/network/vip-firewall.ts) over a FakeRunner
 * and a temporary base path: `ensureBaseRules` writes the base ruleset only when no ruleset file
 * exists (a reboot keeps the controller's rules), `load` loads whichever file is there with
 * `nft_cmd` inside the configured namespace and loads nothing when there is none.
 */
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../test/fakes/fake-runner.js';
import { parseConfig } from '../../config/load.js';
import { silentLogger } from '../../log.js';
import { renderBaseRules } from '../../render/nft-rules.js';
import { createPaths } from '../../system/paths.js';
import { NamespaceInterfaces } from './interfaces.js';
import { VipFirewall } from './vip-firewall.js';

function setup() {
  const root = mkdtempSync(join(tmpdir(), 'vip-firewall-'));
  const config = parseConfig([{ path: '/x.conf', text: `[haproxy_amphora]\nbase_path = ${root}\n[amphora_agent]\nnetwork_namespace = amp-test\nnft_cmd = /opt/bin/nft\n` }]).config;
  const paths = createPaths(config);
  const runner = new FakeRunner().on(['/opt/bin/nft'], { exitCode: 0 });
  const deps = { config: () => config, paths, runner };
  const firewall = new VipFirewall({ ...deps, interfaces: new NamespaceInterfaces(deps), log: silentLogger() });
  return { paths, runner, firewall };
}

describe('VipFirewall at plug and boot', () => {
  it('writes the base ruleset 0600 when there is none, and loads it inside the namespace with nft_cmd', async () => {
    const { paths, runner, firewall } = setup();
    expect(await firewall.ensureBaseRules()).toBe(true);
    expect(readFileSync(paths.nftRulesFile, 'utf8')).toBe(renderBaseRules());
    expect(statSync(paths.nftRulesFile).mode & 0o777).toBe(0o600);
    expect(runner.calls).toEqual([]);
    expect(await firewall.load()).toBe(true);
    expect(runner.runs).toEqual([{ argv: ['ip', 'netns', 'exec', 'amp-test', '/opt/bin/nft', '-o', '-f', paths.nftRulesFile], netns: 'amp-test', input: undefined }]);
  });

  it('keeps an existing ruleset (the controller\'s rules survive a reboot)', async () => {
    const { paths, firewall } = setup();
    writeFileSync(paths.nftRulesFile, '# the controller rules\n', { mode: 0o600 });
    expect(await firewall.ensureBaseRules()).toBe(false);
    expect(readFileSync(paths.nftRulesFile, 'utf8')).toBe('# the controller rules\n');
  });

  it('loads nothing when there is no ruleset file', async () => {
    const { runner, firewall } = setup();
    expect(await firewall.load()).toBe(false);
    expect(runner.calls).toEqual([]);
  });

  it('passes on a load nft refuses as CommandFailed', async () => {
    const { runner, firewall } = setup();
    await firewall.ensureBaseRules();
    runner.on(['/opt/bin/nft'], { exitCode: 1, stderr: 'Error: syntax error\n' });
    await expect(firewall.load()).rejects.toMatchObject({ code: 'command_failed', output: 'Error: syntax error\n' });
  });
});
