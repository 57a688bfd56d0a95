/**
 * The agent's keepalived validation (services/keepalived-validate.ts over the real ExecaRunner)
 * against configs rendered by Octavia's own templaters (python3-octavia, via
 * test/support/octavia-render.py and octavia-client.py): every variant the controller sends
 * must be accepted, and broken configs must be refused with keepalived's own words.
 *
 * Octavia renders `net_namespace amphora-haproxy`; the tests put a namespace of their own
 * there (keepalived enters it while it checks the config), and remove it afterwards.
 */
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { ConfigRejected } from '../../src/model/errors.js';
import { renderUdpCheck } from '../../src/render/scripts.js';
import type { Uuid } from '../../src/model/uuid.js';
import { validateKeepalivedConfig } from '../../src/services/apply/validators.js';
import { unitRenderer } from '../../src/render/init-units.js';
import { serviceHarness } from '../support/service-harness.js';
import { createInitSystem } from '../../src/system/init/detect.js';
import { ExecaRunner } from '../../src/system/exec.js';
import { OCTAVIA_CLIENT } from '../support/agent-fixture.js';
import {
  KEEPALIVED,
  RENDER_SCRIPT,
  SYSTEM_PYTHON,
  addLocalVeth,
  addNetns,
  deleteNetns,
  netnsExists,
  renderLvs,
  sh,
  show,
  uniqueName,
  type LvsSpec,
} from '../support/keepalived-fixture.js';
import { rejectionOf } from '../support/rejection.js';
import { tierCanRun } from '../support/requirements.js';

const canRun = tierCanRun('integration: keepalived config test', {
  root: true,
  binaries: ['keepalived', 'ip'],
  python: 'octavia',
  files: [RENDER_SCRIPT, OCTAVIA_CLIENT],
});

const LID = '5a1e0000-0000-4000-8000-000000000001';
const log = silentLogger();
const runner = new ExecaRunner(log, 60_000);

/** What validateKeepalivedConfig threw (fails the test when it did not throw). */

describe.skipIf(!canRun)('keepalived --config-test on controller-rendered and broken configs', () => {
  const lvsNs = uniqueName('kc');
  const vrrpNs = uniqueName('kv');
  let dir: string;
  let basePath: string;
  let n = 0;

  const write = async (text: string): Promise<string> => {
    const file = join(dir, `candidate-${++n}.conf.new`);
    await writeFile(file, text);
    return file;
  };
  const validate = async (text: string, netns?: string): Promise<void> => validateKeepalivedConfig(runner, KEEPALIVED, await write(text), log, netns);
  const render = (spec: Omit<LvsSpec, 'listener_id'>) => renderLvs({ listener_id: LID, base_path: basePath, ...spec }, lvsNs);

  beforeAll(async () => {
    await addNetns(lvsNs);
    await addNetns(vrrpNs);
    await addLocalVeth(vrrpNs, 'eth1', 'aat-peer');
    dir = await mkdtemp(join(tmpdir(), 'aat-kc-'));
    // The UDP-CONNECT member check exists where the controller's misc_path points, as on an amphora.
    basePath = join(dir, 'octavia');
    await mkdir(join(basePath, 'lvs', 'check'), { recursive: true });
    await writeFile(join(basePath, 'lvs', 'check', 'udp_check.sh'), renderUdpCheck(), { mode: 0o755 });
  });

  afterAll(async () => {
    await deleteNetns(lvsNs);
    await deleteNetns(vrrpNs);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const members = [
    { id: 'dddddddd-0000-0000-0000-000000000001', address: '192.0.2.11', port: 5353 },
    { id: 'dddddddd-0000-0000-0000-000000000002', address: '192.0.2.12', port: 5353 },
  ];

  // [name, spec, something the render must contain so that the case is what its name says]
  const accepted: [string, Omit<LvsSpec, 'listener_id'>, RegExp][] = [
    ['UDP with a UDP-CONNECT monitor (MISC_CHECK udp_check.sh)', { hm_type: 'UDP-CONNECT' }, /MISC_CHECK \{\n\s+misc_path ".*\/lvs\/check\/udp_check\.sh 192\.0\.2\.11 5353"/],
    ['UDP without a health monitor', { hm_type: null }, /protocol UDP\n(?:(?!MISC_CHECK|delay_loop)[\s\S])*real_server 192\.0\.2\.11 5353/],
    ['UDP with an HTTP monitor (HTTP_GET, one url per expected code)', { hm_type: 'HTTP' }, /HTTP_GET \{[\s\S]*status_code 202[\s\S]*connect_port 5353/],
    ['UDP with a TCP monitor (TCP_CHECK)', { hm_type: 'TCP' }, /TCP_CHECK \{\n\s+connect_ip 192\.0\.2\.11/],
    ['UDP with a PING monitor (timers only, no member check)', { hm_type: 'PING' }, /delay_loop 5\n\s+delay_before_retry 5\n\s+retry 3/],
    ['SCTP with an SCTP monitor (amphora-health-checker)', { protocol: 'SCTP', hm_type: 'SCTP' }, /protocol SCTP[\s\S]*misc_path "amphora-health-checker sctp -t 3 192\.0\.2\.11 5353"/],
    ['SCTP without a health monitor', { protocol: 'SCTP', hm_type: null }, /protocol SCTP\n[\s\S]*real_server 192\.0\.2\.12 5353/],
    ['SCTP with a TCP monitor', { protocol: 'SCTP', hm_type: 'TCP' }, /protocol SCTP[\s\S]*TCP_CHECK/],
    ['SOURCE_IP session persistence with Octavia defaults and the sh scheduler', { hm_type: 'UDP-CONNECT', algorithm: 'SOURCE_IP', session_persistence: { type: 'SOURCE_IP' } }, /lb_algo sh\n[\s\S]*persistence_timeout 360\n\s+persistence_granularity 255\.255\.255\.255/],
    [
      'SOURCE_IP persistence with timeout and granularity, least connections and a connection limit',
      { hm_type: 'UDP-CONNECT', algorithm: 'LEAST_CONNECTIONS', connection_limit: 100, session_persistence: { type: 'SOURCE_IP', persistence_timeout: 60, persistence_granularity: '255.255.255.0' } },
      /lb_algo lc\n[\s\S]*persistence_timeout 60\n\s+persistence_granularity 255\.255\.255\.0[\s\S]*uthreshold 100/,
    ],
    ['a disabled listener (net_namespace only)', { listener_enabled: false }, /# Listener .* is disabled\n\nnet_namespace aat-/],
    ['a disabled member', { hm_type: 'UDP-CONNECT', members: [{ ...members[0]!, enabled: false }, members[1]!] }, /# Member dddddddd-0000-0000-0000-000000000001 is disabled\n[\s\S]*real_server 192\.0\.2\.12/],
    // Octavia renders a virtual_server without real_server for these; keepalived says "has no
    // real servers - ignoring" (exit 5) and runs the rest. The reference agent does not validate.
    ['a disabled pool', { pool_enabled: false }, /# Pool bbbbbbbb-0000-0000-0000-000000000001 is disabled/],
    ['a pool without members (the state right after the pool is created)', { hm_type: 'UDP-CONNECT', members: [] }, /# Configuration for HealthMonitor [\s\S]*\n\}/],
    ['a pool whose only member is disabled', { members: [{ ...members[0]!, enabled: false }] }, /# Member dddddddd-0000-0000-0000-000000000001 is disabled\n(?![\s\S]*real_server)/],
    ['a listener without a pool', { with_pool: false }, /^(?![\s\S]*virtual_server)/],
    ['members with a separate monitor address and port', { hm_type: 'TCP', members: [{ ...members[0]!, monitor_address: '192.0.2.111', monitor_port: 8080 }] }, /connect_ip 192\.0\.2\.111\n\s+connect_port 8080/],
    ['an IPv6 VIP and members', { hm_type: 'UDP-CONNECT', vip: '2001:db8::10', members: [{ id: 'dddddddd-0000-0000-0000-000000000006', address: '2001:db8::11', port: 53 }] }, /virtual_server_group ipv6-group \{\n\s+2001:db8::10 53/],
  ];

  it.each(accepted)('accepts Octavia\'s render: %s', async (_name, spec, shape) => {
    const text = await render(spec);
    expect(text).toMatch(shape);
    await expect(validate(text)).resolves.toBeUndefined();
  });

  // With a UDP-CONNECT (or SCTP) monitor the member check script exists, keepalived adds its
  // "script_security not enabled" finding, and its exit status becomes 6 whatever else it found.
  it.each([['TCP'], ['UDP-CONNECT']] as const)('really runs keepalived: a %s render with one unknown keyword is refused with its output', async (hm) => {
    const text = await render({ hm_type: hm });
    const broken = text.replace(/^(\s+lb_kind NAT)$/m, '$1\n    bogus_keyword 42');
    expect(broken).not.toBe(text);
    const err = await rejectionOf(validate(broken));
    expect(err).toBeInstanceOf(ConfigRejected);
    expect(err.status).toBe(400);
    expect(err.details).toMatch(/Unknown keyword 'bogus_keyword'/);
  });

  it('refuses unbalanced braces with keepalived\'s count of them', async () => {
    const text = await render({ hm_type: 'TCP' });
    const broken = text.replace(/\}\s*$/, '');
    const err = await rejectionOf(validate(broken));
    expect(err).toBeInstanceOf(ConfigRejected);
    expect(err.details).toMatch(/missing '\}'s or extra '\{'s/);
  });

  it('refuses garbage', async () => {
    const garbage = `net_namespace ${lvsNs}\n$%^&* not a keepalived config {{{\n\u0001\u0002 ;; 'quoted\n`;
    const err = await rejectionOf(validate(garbage));
    expect(err).toBeInstanceOf(ConfigRejected);
    expect(err.details).toMatch(/Unknown keyword/);
    expect(err.details).toMatch(/missing '\}'s or extra '\{'s/);
  });

  it('refuses a keyword outside any block that only the parser knows is wrong', async () => {
    const text = await render({ listener_enabled: false });
    const err = await rejectionOf(validate(`${text}real_server 192.0.2.1 53 {\n    weight 1\n}\n`));
    expect(err).toBeInstanceOf(ConfigRejected);
    expect(err.details).toMatch(/Unknown keyword 'real_server'/);
  });

  // keepalived 2.2.7 `--config-test` exits 0, checking nothing after the `net_namespace` line, when
  // that namespace does not exist yet. So the agent creates its namespace before validating and
  // refuses configs naming another one (services/lvs-listeners.ts); this is proven here with the
  // real services on a namespace that does not exist when the upload arrives.
  it('does not accept a broken config just because its namespace does not exist yet', async () => {
    const missingNs = uniqueName('gone');
    const text = (await render({ hm_type: 'UDP-CONNECT' })).replace(`net_namespace ${lvsNs}`, `net_namespace ${missingNs}`);
    const broken = text.replace(/^(\s+lb_kind NAT)$/m, '$1\n    bogus_keyword 42');
    const direct = await sh(KEEPALIVED, ['--config-test', '-f', await write(broken)]);
    // keepalived's own behaviour, which makes an exit-status check fail open:
    expect(direct.code, show(direct)).toBe(0);

    const root = join(dir, 'gone-root');
    const { lvs, state } = await serviceHarness({
      configText: `[haproxy_amphora]\nbase_path = ${root}\n[amphora_agent]\nnetwork_namespace = ${missingNs}\ninit_system = direct\n`,
      runner,
      init: (paths, config) => createInitSystem('direct', config, runner, paths, log, unitRenderer),
      log,
    });
    try {
      const err = await rejectionOf(lvs.upload(LID as Uuid, Buffer.from(broken)));
      expect(err).toBeInstanceOf(ConfigRejected);
      expect(err.details).toContain('bogus_keyword');
      expect(await netnsExists(missingNs)).toBe(true);
      expect(state.current.lvsListeners).toEqual({});
    } finally {
      await deleteNetns(missingNs);
    }
  });

  describe('VRRP config from `octavia-client.py render-vrrp`', () => {
    let vrrpText: string;
    let script: string;

    beforeAll(async () => {
      const r = await sh(SYSTEM_PYTHON, [OCTAVIA_CLIENT, 'render-vrrp']);
      expect(r.code, show(r)).toBe(0);
      // keepalived disables a vrrp_script whose file is missing: point it at a real one, in a
      // root-owned directory nobody else can write to (the temp dir is 0700).
      script = join(dir, 'vrrp', 'check_script.sh');
      await mkdir(join(dir, 'vrrp'), { recursive: true, mode: 0o755 });
      await writeFile(script, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
      await chmod(dir, 0o700);
      expect(r.stdout).toContain('script /var/lib/octavia/vrrp/check_script.sh');
      vrrpText = r.stdout.replace('script /var/lib/octavia/vrrp/check_script.sh', `script ${script}`);
    });

    it('is accepted inside a namespace that has eth1', async () => {
      expect(vrrpText).toMatch(/interface eth1\n/);
      await expect(validate(vrrpText, vrrpNs)).resolves.toBeUndefined();
    });

    it('is refused inside a namespace without eth1', async () => {
      const err = await rejectionOf(validate(vrrpText, lvsNs));
      expect(err).toBeInstanceOf(ConfigRejected);
      expect(err.details).toMatch(/Non-existent interface specified in configuration/);
    });

    it('is refused when its check script is missing (keepalived would silently drop the tracking)', async () => {
      const err = await rejectionOf(validate(vrrpText.replace(`script ${script}`, `script ${join(dir, 'vrrp', 'missing.sh')}`), vrrpNs));
      expect(err).toBeInstanceOf(ConfigRejected);
      expect(err.details).toMatch(/Disabling track script check_script since not found/);
    });
  });
});
