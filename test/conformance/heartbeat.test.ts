/**
 * Heartbeats of this agent and of the reference agent (Debian's octavia-agent 11, run by the
 * shared reference-agent.sh in its sandbox), captured on real UDP sockets on 127.0.0.1 and opened
 * with Octavia's own `unwrap_envelope`, for the same situation: first with no listener, then with
 * one load balancer (one HTTP listener, a pool, a member) uploaded to both through the real
 * controller client (octavia-client.py upload-haproxy, then reload). The two messages must be the
 * same but for `seq` (which counts each agent's own heartbeats): same fields, same types, same
 * ids, statuses and statistics. Both agents share one PKI, hence one amphora id; each runs haproxy
 * in a network namespace of its own (the reference's sandbox makes one, this test the other).
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentHandle } from '../../src/main.js';
import { createAgentRoot, GEN_CERTS, makePki, OCTAVIA_CLIENT, OCTAVIA_REF_DIR, removeDir, startInProcess, type AgentRoot, type TestPki } from '../support/agent-fixture.js';
import { HeartbeatReceiver, octaviaUnwrap, openDatagram, type Received } from '../support/heartbeat-datagrams.js';
import { octaviaClient, outcome, SYSTEM_PYTHON } from '../support/octavia-client.js';
import { tierCanRun } from '../support/requirements.js';

const REFERENCE_AGENT = join(OCTAVIA_REF_DIR, 'reference-agent.sh');
const canRun = tierCanRun('conformance (heartbeat against the reference agent)', {
  root: true,
  python: 'octavia',
  binaries: ['bash', 'openssl', 'haproxy', 'ip', 'unshare', 'setsid', 'ss'],
  files: [GEN_CERTS, OCTAVIA_CLIENT, REFERENCE_AGENT, '/usr/bin/amphora-agent'],
});

/** reference-agent.sh writes this key into the reference's configuration. */
const KEY = 'insecure';
const LB = 'ffffffff-0000-0000-0000-0000000000b1';
const LISTENER = 'eeeeeeee-0000-0000-0000-0000000000b1';

interface Reference {
  readonly state: string;
  readonly port: number;
}

function run(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 180_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env, timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`)) : resolve(stdout),
    );
  });
}

async function startReference(state: string, pki: TestPki, health: string): Promise<Reference> {
  const env = { ...process.env, OCTAVIA_REF_CERTS: pki.dir, OCTAVIA_REF_HEALTH: health };
  const out = await run('bash', [REFERENCE_AGENT, 'start', 'hb', 'systemd', 'SINGLE', 'auto', state], env);
  const url = /OCTAVIA_REF_BASE_URL=https:\/\/127\.0\.0\.1:(\d+)/.exec(out);
  if (!url) throw new Error(`reference-agent.sh start printed no base URL:\n${out}`);
  return { state, port: Number(url[1]) };
}

/** The controller's minimal haproxy config of octavia-client.py (the one `upload-haproxy` sends), for `lb` and `listener`. */
function controllerHaproxyConfig(lb: string, listener: string): string {
  const script = `
import importlib.util, sys
spec = importlib.util.spec_from_file_location('octavia_client', sys.argv[1])
m = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m)
sys.stdout.write(m.haproxy_cfg(sys.argv[2], sys.argv[3]))
`;
  return execFileSync(SYSTEM_PYTHON, ['-c', script, OCTAVIA_CLIENT, lb, listener], { encoding: 'utf8', timeout: 120_000 });
}

/** The message a datagram carries, as Octavia's health manager opens it. */
async function opened(r: Received): Promise<Record<string, unknown>> {
  const u = await octaviaUnwrap(r.bytes, KEY);
  if (!('message' in u)) throw new Error(`unwrap_envelope refused a heartbeat: ${u.error}`);
  return u.message;
}

/**
 * The first heartbeat from index `from` on whose message `accept` takes, as Octavia's
 * `unwrap_envelope` opens it (the search itself opens them in-process: one Python run per wait).
 */
async function heartbeat(rx: HeartbeatReceiver, from: number, accept: (m: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  const found = await rx.next((r) => accept(openDatagram(r.bytes, KEY)), from, 90_000);
  return opened(found);
}

/** Everything but `seq`, which counts each agent's own heartbeats. */
const withoutSeq = (m: Record<string, unknown>) => Object.fromEntries(Object.entries(m).filter(([k]) => k !== 'seq'));

/** Each value replaced by its JSON type: what the controller's parser sees besides the values. */
function typesOf(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(typesOf);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, typesOf(x)]));
  return Number.isInteger(v) ? 'integer' : v === null ? 'null' : typeof v;
}

describe.skipIf(!canRun)('heartbeats: this agent and the reference agent', { timeout: 600_000 }, () => {
  let work: string;
  let pki: TestPki;
  let reference: Reference | undefined;
  let root: AgentRoot;
  let agent: AgentHandle | undefined;
  let ns: string | undefined;
  /** base_path of this agent: short, since haproxy refuses stats socket paths over 97 characters. */
  let base: string | undefined;
  const rx: { ref?: HeartbeatReceiver; ours?: HeartbeatReceiver } = {};

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'amphora-heartbeat-conf-'));
    pki = await makePki(join(work, 'pki'));
    rx.ref = await HeartbeatReceiver.bind('127.0.0.1');
    rx.ours = await HeartbeatReceiver.bind('127.0.0.1');
    reference = await startReference(join(work, 'reference'), pki, rx.ref.entry);
    ns = `aat-hb-${randomBytes(3).toString('hex')}`;
    execFileSync('ip', ['netns', 'add', ns]);
    // the controller's config binds 127.0.0.1 in the namespace
    execFileSync('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
    base = await mkdtemp('/tmp/hb');
    root = await createAgentRoot({
      pki,
      parent: work,
      overrides: {
        haproxy_amphora: { base_path: base },
        amphora_agent: { network_namespace: ns },
        // the reference's interval is 10 s (reference-agent.sh); ours is shorter only to wait less
        health_manager: { controller_ip_port_list: rx.ours.entry, heartbeat_key: KEY, heartbeat_interval: '2' },
      },
    });
    agent = await startInProcess(root);
  });

  afterAll(async () => {
    if (agent) {
      await octaviaClient({ port: agent.port, pki }, 'delete', LB);
      await agent.close();
    }
    if (ns) {
      try {
        for (const pid of execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).split('\n').filter(Boolean)) process.kill(Number(pid), 'SIGKILL');
      } finally {
        execFileSync('ip', ['netns', 'del', ns]);
      }
    }
    if (reference) await run('bash', [REFERENCE_AGENT, 'stop', 'hb', reference.state]);
    await rx.ref?.close();
    await rx.ours?.close();
    if (work) await removeDir(work);
    await removeDir(base);
  });

  it('with no listener, both send the same v3 message', async () => {
    const ref = await heartbeat(rx.ref!, 0, () => true);
    const ours = await heartbeat(rx.ours!, 0, () => true);
    process.stdout.write(`reference: ${JSON.stringify(ref)}\nours:      ${JSON.stringify(ours)}\n`);
    expect(ref).toEqual({ id: pki.amphoraId, seq: 0, listeners: {}, pools: {}, ver: 3 });
    expect(ours).toEqual(ref);
  });

  it('with one HTTP listener, a pool and a member uploaded by the controller client, both report the same', async () => {
    const refFrom = rx.ref!.received.length;
    const oursFrom = rx.ours!.received.length;
    const toRef = (...c: string[]) => octaviaClient({ port: reference!.port, pki }, ...c);
    const toUs = (...c: string[]) => octaviaClient({ port: agent!.port, pki }, ...c);

    for (const r of [await toRef('upload-haproxy', LB, '--listener-id', LISTENER), await toRef('reload', LB)]) expect(r.code, outcome(r)).toBe(0);
    const ours = join(work, 'ours-haproxy.cfg');
    await writeFile(ours, controllerHaproxyConfig(LB, LISTENER).replaceAll('/var/lib/octavia', base ?? ''));
    for (const r of [await toUs('upload-haproxy', LB, '--file', ours), await toUs('reload', LB)]) expect(r.code, outcome(r)).toBe(0);

    const hasListener = (m: Record<string, unknown>) => LISTENER in (m['listeners'] as object);
    const ref = await heartbeat(rx.ref!, refFrom, hasListener);
    const mine = await heartbeat(rx.ours!, oursFrom, hasListener);
    process.stdout.write(`reference: ${JSON.stringify(ref)}\nours:      ${JSON.stringify(mine)}\n`);
    expect(typesOf(mine)).toEqual(typesOf(ref));
    expect(withoutSeq(mine)).toEqual(withoutSeq(ref));
  });

  // The same requests through each haproxy (in its own namespace; the member is unreachable there,
  // so each gets haproxy's 503 at once): the deltas summed over the heartbeats that follow are the
  // same in both, byte for byte.
  it('reports the same deltas for the same requests', async () => {
    const refFrom = rx.ref!.received.length;
    const oursFrom = rx.ours!.received.length;
    const curl = ['curl', '-s', '-o', '/dev/null', '-H', 'User-Agent: heartbeat-test', `http://127.0.0.1:18080/`];
    for (let i = 0; i < REQUESTS; i++) {
      await run('bash', [REFERENCE_AGENT, 'exec', 'hb', reference!.state, '--', 'ip', 'netns', 'exec', 'amphora-haproxy', ...curl]);
      await run('ip', ['netns', 'exec', ns!, ...curl]);
    }
    const ref = await summedStats(rx.ref!, refFrom);
    const mine = await summedStats(rx.ours!, oursFrom);
    process.stdout.write(`summed deltas: reference ${JSON.stringify(ref)}, ours ${JSON.stringify(mine)}\n`);
    expect(ref.totconns).toBe(REQUESTS);
    expect(ref.rx).toBeGreaterThan(0);
    expect(ref.tx).toBeGreaterThan(0);
    expect(mine).toEqual(ref);
  });
});

const REQUESTS = 3;

/** The listener's stats summed over the heartbeats from index `from`, once they count every request. */
async function summedStats(rx: HeartbeatReceiver, from: number): Promise<Record<string, number>> {
  const sum = () => {
    const total: Record<string, number> = { tx: 0, rx: 0, totconns: 0, ereq: 0 };
    for (const r of rx.received.slice(from)) {
      const stats = ((openDatagram(r.bytes, KEY)['listeners'] as Record<string, { stats: Record<string, number> }>)[LISTENER]?.stats ?? {});
      for (const k of Object.keys(total)) total[k] = (total[k] ?? 0) + (stats[k] ?? 0);
    }
    return total;
  };
  await rx.next(() => (sum()['totconns'] ?? 0) >= REQUESTS, from, 90_000).catch((err: unknown) => {
    throw new Error(`${String(err)}; summed: ${JSON.stringify(sum())}`);
  });
  // the heartbeat after the one that completed the count: a delta is never sent twice
  const settled = rx.received.length;
  await rx.next(() => true, settled, 90_000);
  return sum();
}
