/**
 * HaproxyLoadBalancers with the FakeRunner (scripted `haproxy -c`) and the FakeInit under a
 * temporary root: what apply decides (start, reload, nothing), what a refused or failed apply
 * leaves (the previous config, unit and state), and that removal is complete and idempotent.
 * The same with the real haproxy in a network namespace: test/integration/haproxy-lbs.test.ts.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeInit } from '../../test/fakes/fake-init.js';
import { FakeRunner } from '../../test/fakes/fake-runner.js';
import { parseConfig } from '../config/load.js';
import { CommandFailed, ConfigRejected, InvalidInput } from '../model/errors.js';
import type { Uuid } from '../model/uuid.js';
import { createPaths } from '../system/paths.js';
import { serviceHarness } from '../../test/support/service-harness.js';

const LB = 'ffffffff-0000-0000-0000-0000000000b1' as Uuid;
const UNIT = `haproxy-${LB}`;
const CONFIG_A = 'global\n    stats socket /x.sock\n# a\n';
const CONFIG_B = 'global\n    stats socket /x.sock\n# b\n';
const BROKEN = 'global\n    bogus_keyword 1\n';

async function setup() {
  const root = mkdtempSync(join(tmpdir(), 'haproxy-lbs-'));
  const configText = `[haproxy_amphora]\nbase_path = ${root}/lib\n[amphora_agent]\nproc_dir = ${root}/proc\nnetns_run_dir = ${root}/netns\nprocess_settle_seconds = 0\nprocess_ready_timeout = 2\n`;
  const config = parseConfig([{ path: '/x.conf', text: configText }]).config;
  const paths = createPaths(config);
  // haproxy -c refuses any config with the bogus keyword, as the real one does
  const runner = new FakeRunner()
    .on(['/bin/sh'], { exitCode: 0 })
    .on([config.haproxy_amphora.haproxy_cmd, '-c'], (argv) =>
      readFileSync(argv[3]!, 'utf8').includes('bogus_keyword')
        ? { exitCode: 1, stderr: "[ALERT]    (1) : config : parsing [x:2] : unknown keyword 'bogus_keyword' in 'global' section\n" }
        : { exitCode: 0, stdout: 'Configuration file is valid\n' },
    );
  const init = new FakeInit(join(root, 'proc'));
  const t = await serviceHarness({ configText, runner, init: () => init });
  const lifecycle = () => init.calls.filter((c) => /^(start|stop|reload) /.test(c));
  return { paths, runner, init, state: t.state, daemon: t.specs.haproxy(LB), lbs: t.haproxy, lifecycle };
}

describe('HaproxyLoadBalancers.apply', () => {
  it('starts a new load balancer, does nothing for the same config, reloads a changed one', async () => {
    const t = await setup();
    expect(await t.lbs.apply(LB, CONFIG_A, ['l1'])).toBe('started');
    expect(t.init.calls).toEqual([`install ${UNIT} amphora-netns`, `enable ${UNIT}`, `start ${UNIT}`]);
    expect(readFileSync(t.paths.haproxyConfig(LB), 'utf8')).toBe(CONFIG_A);
    expect(t.state.current.loadBalancers[LB]).toMatchObject({ id: LB, wantRunning: true, listeners: ['l1'] });

    expect(await t.lbs.apply(LB, CONFIG_A, ['l1'])).toBe('unchanged');
    expect(t.lifecycle()).toEqual([`start ${UNIT}`]);
    // the same config is not validated twice
    expect(t.runner.calls.filter((c) => c.includes('-c'))).toHaveLength(1);

    expect(await t.lbs.apply(LB, CONFIG_B, ['l1', 'l2'])).toBe('reloaded');
    expect(t.lifecycle()).toEqual([`start ${UNIT}`, `reload ${UNIT}`]);
    expect(await t.lbs.read(LB)).toBe(CONFIG_B);
    expect(t.state.current.loadBalancers[LB]?.listeners).toEqual(['l1', 'l2']);
  });

  it('starts a crashed haproxy again even when its config did not change', async () => {
    const t = await setup();
    await t.lbs.apply(LB, CONFIG_A, ['l1']);
    t.init.crash(t.daemon);
    expect(await t.lbs.apply(LB, CONFIG_A, ['l1'])).toBe('started');
    expect(t.lifecycle()).toEqual([`start ${UNIT}`, `start ${UNIT}`]);
  });

  it('refuses a config haproxy -c refuses (400) and keeps the running one; the refused text stays as .new-failed', async () => {
    const t = await setup();
    await t.lbs.apply(LB, CONFIG_A, ['l1']);
    const err = await t.lbs.apply(LB, BROKEN, ['l1']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigRejected);
    expect((err as ConfigRejected).status).toBe(400);
    expect((err as ConfigRejected).details).toMatch(/unknown keyword 'bogus_keyword'/);
    expect(await t.lbs.read(LB)).toBe(CONFIG_A);
    expect(readFileSync(`${t.paths.haproxyConfig(LB)}.new-failed`, 'utf8')).toBe(BROKEN);
    expect(t.lifecycle()).toEqual([`start ${UNIT}`]);
  });

  it('puts the previous config back when the reload is not acknowledged', async () => {
    const t = await setup();
    await t.lbs.apply(LB, CONFIG_A, ['l1']);
    t.init.ignoreNextReload = true;
    const err = await t.lbs.apply(LB, CONFIG_B, ['l1', 'l2']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandFailed);
    expect((err as CommandFailed).message).toBe(`${UNIT} did not acknowledge the reload`);
    expect(await t.lbs.read(LB)).toBe(CONFIG_A);
    expect(t.state.current.loadBalancers[LB]?.listeners).toEqual(['l1']);
  }, 10_000);

  it('leaves no config, unit or state entry when a new load balancer fails half-way', async () => {
    const t = await setup();
    t.init.failNextInstall = true;
    await expect(t.lbs.apply(LB, CONFIG_A, ['l1'])).rejects.toThrow(/install failed/);
    expect(await t.lbs.read(LB)).toBeUndefined();
    expect(t.state.current.loadBalancers).toEqual({});
    expect(t.init.calls).toContain(`uninstall ${UNIT}`);
  });

  it('refuses an empty config before doing anything', async () => {
    const t = await setup();
    await expect(t.lbs.apply(LB, '', [])).rejects.toBeInstanceOf(InvalidInput);
    await expect(t.lbs.validate(LB, '')).rejects.toBeInstanceOf(InvalidInput);
    expect(t.runner.calls).toEqual([]);
  });
});

describe('HaproxyLoadBalancers.validate, read and remove', () => {
  it('validates a copy and leaves nothing for a load balancer that does not exist', async () => {
    const t = await setup();
    await expect(t.lbs.validate(LB, CONFIG_A)).resolves.toBeUndefined();
    await expect(t.lbs.validate(LB, BROKEN)).rejects.toBeInstanceOf(ConfigRejected);
    expect(existsSync(t.paths.haproxyDir(LB))).toBe(false);
    expect(await t.lbs.read(LB)).toBeUndefined();
  });

  it('validates beside an existing load balancer without touching its config', async () => {
    const t = await setup();
    await t.lbs.apply(LB, CONFIG_A, ['l1']);
    await expect(t.lbs.validate(LB, BROKEN)).rejects.toBeInstanceOf(ConfigRejected);
    expect(await t.lbs.read(LB)).toBe(CONFIG_A);
    expect(existsSync(`${t.paths.haproxyConfig(LB)}.new-failed`)).toBe(false);
  });

  it('removes a running load balancer completely, and a second remove is fine', async () => {
    const t = await setup();
    await t.lbs.apply(LB, CONFIG_A, ['l1']);
    // the VRRP check now watches this haproxy
    expect(readFileSync(t.paths.haproxyLivenessCheckScript, 'utf8')).toContain(`alive ${t.paths.haproxyPidFile(LB)}`);
    // rotated copies of its log (jobs/rotate-daemon-logs.ts) go with it, or its directory would stay
    const rotated = [1, 2].map((n) => t.paths.rotatedLog(t.paths.haproxyLogFile(LB), n));
    for (const f of rotated) writeFileSync(f, 'old haproxy output\n');
    await t.lbs.remove(LB);
    for (const f of rotated) expect(existsSync(f), f).toBe(false);
    expect(readFileSync(t.paths.haproxyLivenessCheckScript, 'utf8')).not.toContain(LB);
    expect(t.init.calls.slice(-3)).toEqual([`stop ${UNIT}`, `disable ${UNIT}`, `uninstall ${UNIT}`]);
    for (const f of [t.paths.haproxyConfig(LB), t.paths.haproxyPidFile(LB), t.paths.haproxyLogFile(LB), t.paths.haproxyDir(LB)]) expect(existsSync(f), f).toBe(false);
    expect(t.state.current.loadBalancers).toEqual({});
    const before = t.init.calls.length;
    await t.lbs.remove(LB);
    expect(t.init.calls.length).toBe(before);
  });

  it('removes a crashed load balancer without stopping it', async () => {
    const t = await setup();
    await t.lbs.apply(LB, CONFIG_A, ['l1']);
    t.init.crash(t.daemon);
    await t.lbs.remove(LB);
    expect(t.init.calls).not.toContain(`stop ${UNIT}`);
    expect(existsSync(t.paths.haproxyPidFile(LB))).toBe(false);
  });
});

describe('HaproxyLoadBalancers: server states across reloads', () => {
  const STATE = '1\n# be_id be_name srv_id srv_name srv_addr srv_op_state\n3 pool 1 m1 127.0.0.1 0\n';

  /** A unix-socket server at the stats socket path answering as haproxy's CLI; returns the commands it got. */
  async function cli(socket: string): Promise<{ commands: string[]; close: () => Promise<void> }> {
    const commands: string[] = [];
    mkdirSync(dirname(socket), { recursive: true });
    const server = createServer((c) => c.on('data', (d) => (commands.push(d.toString('utf8')), c.end(STATE))));
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(socket, resolve));
    return { commands, close: () => new Promise((resolve) => server.close(() => resolve())) };
  }

  it('saves them before each reload of a running haproxy (apply and the reload action); a start gets none; remove takes the file', async () => {
    const t = await setup();
    const socket = await cli(t.paths.haproxyStatsSocket(LB));
    try {
      expect(await t.lbs.apply(LB, CONFIG_A, ['l1'])).toBe('started');
      expect(readFileSync(t.paths.haproxyServersState(LB), 'utf8')).toBe('1\n');
      expect(await t.lbs.apply(LB, CONFIG_A, ['l1'])).toBe('unchanged');
      expect(socket.commands).toEqual([]);
      expect(await t.lbs.apply(LB, CONFIG_B, ['l1'])).toBe('reloaded');
      expect(socket.commands).toEqual(['show servers state\n']);
      expect(readFileSync(t.paths.haproxyServersState(LB), 'utf8')).toBe(STATE);
      expect(statSync(t.paths.haproxyServersState(LB)).mode & 0o777).toBe(0o600);
      expect(await t.lbs.act(LB, 'reload')).toBe(`haproxy daemon for ${LB} reloaded`);
      expect(socket.commands).toHaveLength(2);
    } finally {
      await socket.close();
    }
    await t.lbs.remove(LB);
    expect(existsSync(t.paths.haproxyServersState(LB))).toBe(false);
    expect(existsSync(t.paths.haproxyDir(LB))).toBe(false);
  });

  it('reloads all the same when nothing answers on the stats socket', async () => {
    const t = await setup();
    await t.lbs.apply(LB, CONFIG_A, ['l1']);
    expect(await t.lbs.apply(LB, CONFIG_B, ['l1'])).toBe('reloaded');
    expect(t.lifecycle()).toEqual([`start ${UNIT}`, `reload ${UNIT}`]);
    expect(existsSync(t.paths.haproxyServersState(LB))).toBe(false);
  });

  it('starts a stopped haproxy without the states an earlier reload saved', async () => {
    const t = await setup();
    await t.lbs.apply(LB, CONFIG_A, ['l1']);
    writeFileSync(t.paths.haproxyServersState(LB), STATE);
    await t.lbs.act(LB, 'stop');
    expect(await t.lbs.act(LB, 'start')).toBe(`haproxy daemon for ${LB} started`);
    expect(readFileSync(t.paths.haproxyServersState(LB), 'utf8')).toBe('1\n');
  });
});
