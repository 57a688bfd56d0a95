import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeDatagrams } from '../../../test/fakes/fake-datagrams.js';
import { FakeSamplers } from '../../../test/fakes/fake-samplers.js';
import { spawnStandIn } from '../../../test/support/daemon-stand-in.js';
import { vrrpIdentity } from '../daemon-specs.js';
import { captureLogger } from '../../../test/support/agent-process.js';
import { openDatagram } from '../../../test/support/heartbeat-datagrams.js';
import { parseConfig } from '../../config/load.js';
import type { AgentConfig } from '../../config/schema.js';
import { createPaths, type Paths } from '../../system/paths.js';
import { Heartbeat } from './beat.js';
import { HeartbeatCounters } from './counters.js';
import { haproxyLb, HTTP_LISTENER, lvsListener, UDP_LISTENER } from './samples.fixtures.js';

const AMP = '11111111-2222-3333-4444-555555555555';
const KEY = 'heartbeat-test-key';

interface World {
  root: string;
  paths: Paths;
  config: AgentConfig;
  samplers: FakeSamplers;
  datagrams: FakeDatagrams;
  lines: Record<string, unknown>[];
  heartbeat: Heartbeat;
}

function configWith(root: string, extra: string): AgentConfig {
  const base = `[haproxy_amphora]\nbase_path = ${root}/lib\n[amphora_agent]\namphora_id = ${AMP}\nproc_dir = /proc\n[health_manager]\ncontroller_ip_port_list = 203.0.113.50:5555, 2001:db8::50:5556\nheartbeat_key = ${KEY}\n`;
  return parseConfig([
    { path: '/base.conf', text: base },
    { path: '/extra.conf', text: extra },
  ]).config;
}

async function world(extra = ''): Promise<World> {
  const root = await mkdtemp(join(tmpdir(), 'hb-beat-'));
  const { log, lines } = captureLogger();
  const w = { root, config: configWith(root, extra), samplers: new FakeSamplers(), datagrams: new FakeDatagrams(), lines } as World;
  w.paths = createPaths(w.config);
  await mkdir(w.paths.base, { recursive: true });
  w.heartbeat = new Heartbeat({
    config: () => w.config,
    paths: w.paths,
    knownListeners: () => [],
    samplers: w.samplers,
    counters: new HeartbeatCounters(w.paths.statsCountersFile, log),
    datagrams: w.datagrams,
    log,
  });
  return w;
}

const errors = (w: World) => w.lines.filter((l) => l['level'] === 50).map((l) => `${String(l['msg'])} ${String(l['problem'] ?? l['reason'] ?? '')}`);
const message = (w: World, i: number) => openDatagram(w.datagrams.sent[i]?.bytes ?? Buffer.alloc(0), KEY);

describe('one heartbeat', () => {
  let w: World;
  beforeEach(async () => {
    w = await world();
    w.samplers.haproxySamples = [haproxyLb({ bin: 100, bout: 200, stot: 5, ereq: 1 })];
    w.samplers.lvsSamples = [lvsListener({ bin: 1000, bout: 2000, stot: 7, ereq: 0 })];
  });
  afterEach(async () => rm(w.root, { recursive: true, force: true }));

  it('sends the signed v3 message to the first controller, with the counters written before the send', async () => {
    let onDisk: unknown;
    w.datagrams.onSend = () => void (onDisk = JSON.parse(readFileSync(w.paths.statsCountersFile, 'utf8')));
    expect(await w.heartbeat.beat()).toBe('sent');
    expect(w.datagrams.sent[0]?.destination).toEqual({ address: '203.0.113.50', family: 4, port: 5555 });
    expect(message(w, 0)).toMatchObject({
      id: AMP,
      seq: 0,
      ver: 3,
      listeners: {
        [HTTP_LISTENER]: { status: 'OPEN', stats: { tx: 200, rx: 100, conns: 2, totconns: 5, ereq: 1 } },
        [UDP_LISTENER]: { status: 'OPEN', stats: { tx: 2000, rx: 1000, conns: 3, totconns: 7, ereq: 0 } },
      },
    });
    expect(Object.keys(message(w, 0)['pools'] as object)).toHaveLength(2);
    expect(onDisk).toEqual({
      [HTTP_LISTENER]: { bin: 100, bout: 200, ereq: 1, stot: 5 },
      [UDP_LISTENER]: { bin: 1000, bout: 2000, ereq: 0, stot: 7 },
    });
  });

  it('sends the next one to the next controller, numbered one more, with the deltas since', async () => {
    await w.heartbeat.beat();
    w.samplers.haproxySamples = [haproxyLb({ bin: 150, bout: 260, stot: 6, ereq: 1 })];
    w.samplers.lvsSamples = [lvsListener({ bin: 10, bout: 20, stot: 1, ereq: 0 })]; // keepalived restarted
    expect(await w.heartbeat.beat()).toBe('sent');
    expect(w.datagrams.sent[1]?.destination).toEqual({ address: '2001:db8::50', family: 6, port: 5556 });
    expect(message(w, 1)).toMatchObject({
      seq: 1,
      listeners: {
        [HTTP_LISTENER]: { stats: { tx: 60, rx: 50, conns: 2, totconns: 1, ereq: 0 } },
        [UDP_LISTENER]: { stats: { tx: 20, rx: 10, conns: 3, totconns: 1, ereq: 0 } },
      },
    });
  });

  it.each([
    ['heartbeat_key', `[health_manager]\nheartbeat_key =\n`],
    ['amphora_id', `[amphora_agent]\namphora_id =\n`],
    ['controller_ip_port_list', `[health_manager]\ncontroller_ip_port_list =\n`],
  ])('without %s: looks at nothing, sends nothing, and logs one error however many times it runs', async (option, extra) => {
    w.config = configWith(w.root, extra);
    expect(await w.heartbeat.beat()).toBe('unconfigured');
    expect(await w.heartbeat.beat()).toBe('unconfigured');
    expect(w.samplers.calls).toBe(0);
    expect(w.datagrams.sent).toEqual([]);
    expect(errors(w)).toEqual([expect.stringContaining(option)]);
    // configured again (PUT /1.0/config): the next heartbeat goes out
    w.config = configWith(w.root, '');
    expect(await w.heartbeat.beat()).toBe('sent');
  });

  it('logs a sampler that throws, sends nothing and counts nothing', async () => {
    w.samplers.failWith = new Error('stats socket refused');
    expect(await w.heartbeat.beat()).toBe('failed');
    expect(w.datagrams.sent).toEqual([]);
    expect(errors(w)).toEqual([expect.stringContaining('cannot build the heartbeat')]);
    w.samplers.failWith = undefined;
    await w.heartbeat.beat();
    expect(message(w, 0)).toMatchObject({ seq: 0, listeners: { [HTTP_LISTENER]: { stats: { rx: 100 } } } });
  });

  it('logs a refused send at debug only; the next heartbeat does not repeat its deltas (they were written ahead)', async () => {
    w.datagrams.failWith = Object.assign(new Error('send ENETUNREACH'), { code: 'ENETUNREACH' });
    expect(await w.heartbeat.beat()).toBe('send-failed');
    expect(errors(w)).toEqual([]);
    expect(w.lines.some((l) => l['level'] === 20 && l['msg'] === 'heartbeat not sent')).toBe(true);
    w.datagrams.failWith = undefined;
    w.samplers.haproxySamples = [haproxyLb({ bin: 110, bout: 200, stot: 5, ereq: 1 })];
    expect(await w.heartbeat.beat()).toBe('sent');
    expect(message(w, 0)).toMatchObject({ seq: 1, listeners: { [HTTP_LISTENER]: { stats: { rx: 10, tx: 0 } } } });
  });

  it('logs the first heartbeat sent at info, the following ones at debug', async () => {
    await w.heartbeat.beat();
    await w.heartbeat.beat();
    const sent = w.lines.filter((l) => /heartbeat sent/.test(String(l['msg'])));
    expect(sent.map((l) => [l['level'], l['msg']])).toEqual([
      [30, 'first heartbeat sent'],
      [20, 'heartbeat sent'],
    ]);
    // the time the heartbeat took to build, which the bench reads (its value is not asserted)
    for (const l of sent) expect(l['buildMs']).toEqual(expect.any(Number));
  });
});

/** A real process: `sleep`, alive until killed. */
function sleeper(): ChildProcess {
  return spawn('sleep', ['600'], { stdio: 'ignore' });
}

async function deadPid(): Promise<number> {
  const child = sleeper();
  const pid = child.pid ?? 0;
  await new Promise((resolve) => {
    child.once('exit', resolve);
    child.kill('SIGKILL');
  });
  return pid;
}

describe('the skip rule (real files, real processes)', () => {
  let w: World;
  let alive: ChildProcess | undefined;
  beforeEach(async () => void (w = await world()));
  afterEach(async () => {
    alive?.kill('SIGKILL');
    await rm(w.root, { recursive: true, force: true });
  });

  const vrrpConfig = async () => {
    await mkdir(w.paths.vrrpDir, { recursive: true });
    await writeFile(w.paths.vrrpConfig, 'vrrp_instance x {}\n');
  };

  it('sends when no VRRP keepalived is configured (SINGLE), pid file or not', async () => {
    expect(await w.heartbeat.beat()).toBe('sent');
  });

  it('sends nothing and logs an error when the VRRP config exists but the pid file does not', async () => {
    await vrrpConfig();
    expect(await w.heartbeat.beat()).toBe('skipped');
    expect(w.datagrams.sent).toEqual([]);
    expect(w.samplers.calls).toBe(0);
    expect(errors(w)).toEqual([expect.stringContaining(`missing keepalived pid file ${w.paths.vrrpPidFile}`)]);
  });

  it('sends nothing when the pid file names a process that is gone', async () => {
    await vrrpConfig();
    await writeFile(w.paths.vrrpPidFile, `${await deadPid()}\n`);
    expect(await w.heartbeat.beat()).toBe('skipped');
    expect(errors(w)).toEqual([expect.stringContaining('configured but not running')]);
  });

  it('sends when the pid file names the live VRRP keepalived', async () => {
    await vrrpConfig();
    alive = spawnStandIn(join(w.root, 'bin'), vrrpIdentity(w.paths));
    await writeFile(w.paths.vrrpPidFile, `${alive.pid}\n`);
    expect(await w.heartbeat.beat()).toBe('sent');
  });

  it('sends nothing when the pid file names a live process that is not the VRRP keepalived (its pid reused)', async () => {
    await vrrpConfig();
    alive = sleeper();
    await writeFile(w.paths.vrrpPidFile, `${alive.pid}\n`);
    expect(await w.heartbeat.beat()).toBe('skipped');
    expect(errors(w)).toEqual([expect.stringContaining('configured but not running')]);
  });

  it('does not count a directory named like the config as a config', async () => {
    await mkdir(w.paths.vrrpConfig, { recursive: true });
    expect(await w.heartbeat.beat()).toBe('sent');
  });
});
