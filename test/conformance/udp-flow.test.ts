/**
 * The real controller client runs the UDP listener flow against the agent, with real keepalived
 * in a network namespace the test creates: upload, reload, listeners, delete (SINGLE), and the
 * VRRP calls plus a listener (ACTIVE_STANDBY). Configs come from Octavia's own templaters
 * (octavia-client.py render-udp / render-vrrp), with the namespace name and base path of this
 * test's agent put in. Whether a listener with virtual servers can run depends on the kernel:
 * `probeIpvs` asks `ipvsadm -Ln` in a fresh namespace (ipvsadm loads ip_vs on demand, as
 * keepalived does). Without IPVS the reload must be reported as failed (500 with the IPVS error),
 * not as started; with it, it must start (202) and the virtual server must be in the kernel.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentHandle } from '../../src/main.js';
import {
  createAgentRoot,
  GEN_CERTS,
  makePki,
  OCTAVIA_CLIENT,
  removeDir,
  startInProcess,
  type AgentRoot,
  type TestPki,
} from '../support/agent-fixture.js';
import { octaviaClient, outcome, type ClientRun } from '../support/octavia-client.js';
import { tierCanRun } from '../support/requirements.js';

const canRun = tierCanRun('conformance (UDP flow)', {
  root: true,
  python: 'octavia',
  binaries: ['keepalived', 'ip', 'ipvsadm', 'openssl', 'bash'],
  files: [GEN_CERTS, OCTAVIA_CLIENT],
});

const L1 = 'ffffffff-0000-0000-0000-0000000000c1';
const L2 = 'ffffffff-0000-0000-0000-0000000000c2';
const ip = (...args: string[]) => execFileSync('ip', args, { encoding: 'utf8' });

/** What this kernel does for IPVS, and the evidence (shown in the test name and printed). */
interface IpvsProbe {
  readonly present: boolean;
  readonly evidence: string;
}

/** `ipvsadm -Ln` in a namespace of its own: exit 0 when the kernel has (or loads) IPVS. */
function probeIpvs(): IpvsProbe {
  const ns = `aat-ipvs-${randomBytes(3).toString('hex')}`;
  ip('netns', 'add', ns);
  try {
    const r = spawnSync('ip', ['netns', 'exec', ns, 'ipvsadm', '-Ln'], { encoding: 'utf8', timeout: 30_000 });
    const lines = `${r.stderr ?? ''}${r.stdout ?? ''}`.trim().split('\n');
    // ipvsadm's own verdict ("Can't initialize ipvs: Protocol not available") over modprobe's preamble
    const said = lines.find((l) => /initialize ipvs/i.test(l)) ?? lines[0] ?? '';
    if (r.status === 0) return { present: true, evidence: 'ipvsadm -Ln in a namespace: exit 0' };
    return { present: false, evidence: `ipvsadm -Ln in a namespace: exit ${r.status ?? r.signal}, "${said}"` };
  } finally {
    ip('netns', 'del', ns);
  }
}

const IPVS: IpvsProbe = canRun ? probeIpvs() : { present: false, evidence: 'not probed: the tier is skipped' };
if (canRun) process.stdout.write(`conformance (UDP flow): IPVS ${IPVS.present ? 'present' : 'absent'} (${IPVS.evidence})\n`);

interface Amphora {
  root: AgentRoot;
  agent: AgentHandle;
  ns: string;
  client: (...command: string[]) => Promise<ClientRun>;
  /** A controller-rendered config with this amphora's namespace and base path. */
  local: (text: string) => string;
}

async function amphora(work: string, pki: TestPki, topology: 'SINGLE' | 'ACTIVE_STANDBY'): Promise<Amphora> {
  const ns = `aat-conf-${randomBytes(3).toString('hex')}`;
  ip('netns', 'add', ns);
  const root = await createAgentRoot({
    pki,
    parent: work,
    overrides: {
      amphora_agent: { network_namespace: ns, process_settle_seconds: '0.3' },
      controller_worker: { loadbalancer_topology: topology },
    },
  });
  const agent = await startInProcess(root);
  const base = root.at('var/lib/octavia');
  return {
    root,
    agent,
    ns,
    client: (...command) => octaviaClient({ port: agent.port, pki }, ...command),
    local: (text) => text.replaceAll('net_namespace amphora-haproxy', `net_namespace ${ns}`).replaceAll('/var/lib/octavia', base),
  };
}

async function teardown(a: Amphora | undefined): Promise<void> {
  if (!a) return;
  for (const id of [L1, L2]) await a.client('delete', id);
  await a.client('stop-vrrp');
  await a.agent.close();
  // anything still running in the namespace goes with it
  try {
    for (const pid of ip('netns', 'pids', a.ns).split('\n').filter(Boolean)) process.kill(Number(pid), 'SIGKILL');
  } catch {
    /* namespace already gone */
  }
  ip('netns', 'del', a.ns);
}

describe.skipIf(!canRun)('UDP listener flow through the Octavia controller client', { timeout: 240_000 }, () => {
  let work: string | undefined;
  let pki: TestPki;
  let single: Amphora | undefined;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'amphora-udp-flow-'));
    pki = await makePki(join(work, 'pki'));
    single = await amphora(work, pki, 'SINGLE');
  });

  afterAll(async () => {
    await teardown(single);
    await removeDir(work);
  });

  const file = (name: string, text: string) => {
    const path = join(work ?? tmpdir(), name);
    writeFileSync(path, text);
    return path;
  };

  it('SINGLE: upload, reload, listeners and delete of a listener keepalived can run here', async () => {
    const a = single!;
    const rendered = await a.client('render-udp', L1, '--disabled');
    expect(rendered.code, outcome(rendered)).toBe(0);
    const cfg = file('disabled.conf', a.local(rendered.stdout));

    const up = await a.client('upload-udp', L1, '--file', cfg);
    expect(up.code, outcome(up)).toBe(0);
    const reload = await a.client('reload', L1);
    expect(reload.code, outcome(reload)).toBe(0);
    expect(reload.stdout).toContain(`keepalivedlvs listener ${L1} started`);

    const pid = Number(readFileSync(join(a.root.at('var/lib/octavia'), 'lvs', `octavia-keepalivedlvs-${L1}.pid`), 'utf8'));
    expect(ip('netns', 'pids', a.ns).split('\n')).toContain(String(pid));

    // the controller re-pushes the same config with every change: nothing restarts
    expect((await a.client('upload-udp', L1, '--file', cfg)).code).toBe(0);
    const again = await a.client('reload', L1);
    expect(again.stdout).toContain('configuration unchanged, not restarted');
    expect(Number(readFileSync(join(a.root.at('var/lib/octavia'), 'lvs', `octavia-keepalivedlvs-${L1}.pid`), 'utf8'))).toBe(pid);

    const listed = await a.client('listeners');
    expect(listed.code, outcome(listed)).toBe(0);
    expect(listed.stdout).toContain(L1);
    expect(listed.stdout).toContain('OFFLINE'); // no virtual server: keepalived idles

    const del = await a.client('delete', L1);
    expect(del.code, outcome(del)).toBe(0);
    expect(existsSync(join(a.root.at('var/lib/octavia'), 'lvs', `octavia-keepalivedlvs-${L1}.conf`))).toBe(false);
    expect(ip('netns', 'pids', a.ns).trim()).toBe('');
  });

  const withVs = IPVS.present
    ? 'SINGLE: a listener with virtual servers starts (202) and its virtual server is in the kernel'
    : 'SINGLE: the controller is told when keepalived cannot serve a listener with virtual servers (500, IPVS error)';
  it(`${withVs} [IPVS ${IPVS.present ? 'present' : 'absent'}: ${IPVS.evidence}]`, async () => {
    const a = single!;
    const rendered = await a.client('render-udp', L2);
    expect(rendered.code, outcome(rendered)).toBe(0);
    const cfg = file('pool.conf', a.local(rendered.stdout));
    expect((await a.client('upload-udp', L2, '--file', cfg)).code).toBe(0);
    const reload = await a.client('reload', L2);
    const listed = await a.client('listeners');
    if (IPVS.present) {
      expect(reload.code, outcome(reload)).toBe(0); // 202
      const pid = Number(readFileSync(join(a.root.at('var/lib/octavia'), 'lvs', `octavia-keepalivedlvs-${L2}.pid`), 'utf8'));
      expect(ip('netns', 'pids', a.ns).split('\n')).toContain(String(pid));
      expect(listed.stdout).toContain('ACTIVE');
      // the VIP and port octavia-client.py render-udp uses
      expect(ip('netns', 'exec', a.ns, 'ipvsadm', '-Ln')).toMatch(/^UDP\s+203\.0\.113\.10:53\b/m);
    } else {
      expect(reload.code, outcome(reload)).toBe(2); // 500 → the client raises
      expect(reload.stderr).toMatch(/InternalServerError|500/);
      // the same request through `raw`, to see the body: a CommandFailed with keepalived's own words
      const raw = await a.client('raw', 'PUT', `loadbalancer/${L2}/reload`);
      expect(raw.stdout, outcome(raw)).toMatch(/^HTTP 500\b/m);
      expect(raw.stdout, outcome(raw)).toContain('"code": "command_failed"');
      expect(raw.stdout, outcome(raw)).toMatch(/IPVS: Can't initiali[sz]e ipvs/i);
      expect(listed.stdout).toContain('ERROR');
    }
    expect((await a.client('delete', L2)).code).toBe(0);
  });

  it('SINGLE: a config keepalived rejects is refused (400) and nothing is created', async () => {
    const a = single!;
    const up = await a.client('upload-udp', L2, '--file', file('bad.conf', 'virtual_server group g {\n  bogus_keyword 1\n'));
    expect(up.code, outcome(up)).toBe(2);
    const raw = await a.client('raw', 'GET', `listeners/${L2}/udp_listener`);
    expect(raw.stdout).toContain('404');
  });
});

describe.skipIf(!canRun)('ACTIVE_STANDBY: VRRP through the Octavia controller client', { timeout: 240_000 }, () => {
  let work: string | undefined;
  let a: Amphora | undefined;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'amphora-vrrp-flow-'));
    const pki = await makePki(join(work, 'pki'));
    a = await amphora(work, pki, 'ACTIVE_STANDBY');
    // the VRRP interface the controller's config names, with this amphora's vrrp_ip; its peer end stays in the namespace
    ip('-n', a.ns, 'link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'eth1-peer');
    ip('-n', a.ns, 'addr', 'add', '203.0.113.21/24', 'dev', 'eth1');
    ip('-n', a.ns, 'link', 'set', 'eth1', 'up');
    ip('-n', a.ns, 'link', 'set', 'eth1-peer', 'up');
  });

  afterAll(async () => {
    await teardown(a);
    await removeDir(work);
  });

  it('uploads and starts VRRP, holds the VIP, and keeps a listener in the check script', async () => {
    const amp = a!;
    const rendered = await amp.client('render-vrrp');
    expect(rendered.code, outcome(rendered)).toBe(0);
    const cfg = join(work!, 'vrrp.conf');
    writeFileSync(cfg, amp.local(rendered.stdout));

    const up = await amp.client('upload-vrrp', '--file', cfg);
    expect(up.code, outcome(up)).toBe(0);
    const base = amp.root.at('var/lib/octavia');
    expect(existsSync(join(base, 'vrrp', 'check_script.sh'))).toBe(true);

    const start = await amp.client('start-vrrp');
    expect(start.code, outcome(start)).toBe(0);
    // no peer answers: the instance becomes MASTER and adds the VIP
    let hasVip = false;
    for (let i = 0; i < 100 && !hasVip; i++) {
      hasVip = ip('-n', amp.ns, 'addr', 'show', 'dev', 'eth1').includes('203.0.113.10');
      if (!hasVip) await new Promise((r) => setTimeout(r, 200));
    }
    expect(hasVip).toBe(true);

    const rendered1 = await amp.client('render-udp', L1, '--disabled');
    const lcfg = join(work!, 'l1.conf');
    writeFileSync(lcfg, amp.local(rendered1.stdout));
    expect((await amp.client('upload-udp', L1, '--file', lcfg)).code).toBe(0);
    expect((await amp.client('reload', L1)).code).toBe(0);
    expect(readFileSync(join(base, 'vrrp', 'check_scripts', 'lvs_udp_check.sh'), 'utf8')).toContain(L1);
    expect(execFileSync('/bin/sh', [join(base, 'vrrp', 'check_script.sh')], { encoding: 'utf8' })).toBe('');

    const reload = await amp.client('reload-vrrp');
    expect(reload.code, outcome(reload)).toBe(0);
    const stop = await amp.client('stop-vrrp');
    expect(stop.code, outcome(stop)).toBe(0);
    expect((await amp.client('delete', L1)).code).toBe(0);
  });
});
