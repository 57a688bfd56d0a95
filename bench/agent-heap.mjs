#!/usr/bin/env -S node --experimental-websocket
/**
 * Dev tool (not a suite, not in CI): where our agent's memory per idle UDP listener goes (issue
 * 15 item 1; findings in bench/README.md, "Where our agent's growth per listener goes").
 *
 * It starts our agent as the scale suite does (dist/amphora-agent.mjs, init_system = direct,
 * ACTIVE_STANDBY with the controller's VRRP config uploaded and its VRRP keepalived started, a
 * test namespace of its own, heartbeats to a local receiver every 10 s) but with node's inspector
 * on a loopback port, and makes the suite's listeners (scale_client.py: the controller's
 * pool-less UDP listener, upload + reload, 8 at a time). Steps: N = 0; N = 1; N = AGENT_HEAP_N,
 * first watched for AGENT_HEAP_WATCH s without a forced collection (memory every 15 s, as a
 * reader of RSS sees it); after AGENT_HEAP_ROUNDS rounds of 20 GET /1.0/listeners and 5 upload +
 * reload pairs; after deleting every listener. At each step it reads, over the Chrome DevTools
 * Protocol, process.memoryUsage() before and after two full collections
 * (HeapProfiler.collectGarbage), V8's heap spaces, node's smaps_rollup and its resident memory by
 * kind of mapping (brk heap, glibc thread arenas, other anonymous, files).
 *
 *   AMPHORA_SHARED=/work/shared node --experimental-websocket bench/agent-heap.mjs OUT_DIR
 *
 * As root, with dist/ built. Prints one JSON line per step and writes OUT_DIR/steps.json. Env:
 * - AGENT_HEAP_N (200), AGENT_HEAP_SETTLE (5 s before each step), AGENT_HEAP_ROUNDS (3),
 *   AGENT_HEAP_WATCH (120 s);
 * - AGENT_HEAP_SNAPSHOTS: the steps (n0, n1, nN, nN-used, deleted, or all) that also take a heap
 *   snapshot, OUT_DIR/<step>.heapsnapshot, for bench/heap-diff.mjs;
 * - AGENT_HEAP_SAMPLE=1: V8's sampling heap profiler (objects the GCs took included) while the N
 *   listeners are made, AGENT_HEAP_IDLE (30) s idle at N, and in the rounds: the largest
 *   allocating functions and the agent's frames above them, OUT_DIR/<phase>.heapprofile;
 * - AGENT_HEAP_TRIM=1: glibc's malloc_stats() and malloc_trim(0) called in node through gdb at
 *   each step (node stops while gdb is attached).
 * Snapshots, the sampler and gdb each cost node native memory or give it back: the RSS of every
 * later step is then not what the agent alone would hold. Our VRRP keepalived outlives the
 * agent's stop and goes with the namespace at cleanup, as in the suite.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cleanup, makeTempDir } from './lib/cleanup.mjs';
import { heartbeatReceiver } from './lib/heartbeat-receiver.mjs';
import { pythonServer } from './lib/heartbeat-python.mjs';
import { envInt } from './lib/knobs.mjs';
import { log } from './lib/log.mjs';
import { ourAgent } from './lib/our-agent.mjs';
import { memoryOf } from './lib/proc-memory.mjs';
import { freePort, runCommand } from './lib/processes.mjs';
import { REPO, TOOLS, makePki } from './lib/shared-tools.mjs';
import { testNamespace } from './lib/test-namespace.mjs';
import { addVeth, client, startOurs } from './suites/check_script.mjs';

const listenerId = (i) => `ffffffff-0000-0000-0015-${String(i).padStart(12, '0')}`;

/** A minimal CDP client over node's (experimental in 20) WebSocket: call(method, params) and events. */
async function inspector(port) {
  let url;
  for (let i = 0; i < 100 && !url; i++) {
    try {
      const list = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
      url = list[0]?.webSocketDebuggerUrl;
    } catch {
      await sleep(200);
    }
  }
  if (!url) throw new Error(`no inspector target on 127.0.0.1:${port}`);
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => {
    ws.addEventListener('open', resolve, { once: true });
    ws.addEventListener('error', reject, { once: true });
  });
  let next = 1;
  const pending = new Map();
  const listeners = new Map();
  ws.addEventListener('message', (ev) => {
    const msg = JSON.parse(ev.data);
    if (msg.id !== undefined) {
      const p = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.error) p?.reject(new Error(`${p.method}: ${msg.error.message}`));
      else p?.resolve(msg.result);
    } else listeners.get(msg.method)?.(msg.params);
  });
  const call = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve, reject, method });
      ws.send(JSON.stringify({ id, method, params }));
    });
  return {
    call,
    on: (method, fn) => listeners.set(method, fn),
    close: () => ws.close(),
    /** The value of `expression` (JSON-serialisable) in the agent's main context. */
    async value(expression) {
      const r = await call('Runtime.evaluate', { expression: `JSON.stringify(${expression})`, returnByValue: true });
      if (r.exceptionDetails) throw new Error(`${expression}: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
      return JSON.parse(r.result.value);
    },
  };
}

const MIB = 1024 * 1024;
const mib = (bytes) => Math.round((bytes / MIB) * 100) / 100;

/** V8's heap spaces that hold anything: size (reserved and committed) / used, MiB. */
const spaceSizes = (spaces) =>
  Object.fromEntries(Object.entries(spaces).filter(([, v]) => v.size > 0).map(([k, v]) => [k, `${mib(v.size)} / ${mib(v.used)}`]));

/**
 * node's resident memory by mapping kind (/proc/<pid>/smaps), MiB: the brk heap (glibc malloc's
 * main arena), glibc's thread arenas (an anonymous rw-p mapping followed by its ---p rest, 64 MiB
 * in all), other anonymous mappings (V8's heap pages and code, large malloc blocks), files, stack.
 */
async function mappings(pid) {
  const maps = [];
  for (const line of (await readFile(`/proc/${pid}/smaps`, 'utf8')).split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (head) maps.push({ start: Number.parseInt(head[1], 16), end: Number.parseInt(head[2], 16), perms: head[3], name: head[4], rss: 0 });
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && maps.length > 0) maps[maps.length - 1].rss = Number(rss[1]) * 1024;
  }
  const out = { brk_heap: 0, thread_arenas: 0, anon_other: 0, files: 0, stack: 0, arenas: 0 };
  maps.forEach((m, i) => {
    const next = maps[i + 1];
    const arena = m.name === '' && m.perms === 'rw-p' && next?.name === '' && next.perms === '---p' && next.start === m.end && next.end - m.start === 64 * MIB;
    if (arena) out.arenas += 1;
    const kind = m.name === '[heap]' ? 'brk_heap' : m.name === '[stack]' ? 'stack' : arena ? 'thread_arenas' : m.name === '' ? 'anon_other' : 'files';
    out[kind] += m.rss;
  });
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, k === 'arenas' ? v : mib(v)]));
}

async function step(b, label) {
  const snapshot = b.snapshots.has(label) || b.snapshots.has('all');
  await sleep(b.settle * 1000);
  const usage = 'process.memoryUsage()';
  const spacesExpr =
    "Object.fromEntries(process.getBuiltinModule('v8').getHeapSpaceStatistics().map((s) => [s.space_name, {size: s.space_size, used: s.space_used_size}]))";
  const before = await b.cdp.value(usage);
  const spacesBefore = await b.cdp.value(spacesExpr);
  await b.cdp.call('HeapProfiler.collectGarbage');
  await b.cdp.call('HeapProfiler.collectGarbage');
  const after = await b.cdp.value(usage);
  const spaces = await b.cdp.value(spacesExpr);
  const handles = await b.cdp.value('process.getActiveResourcesInfo().reduce((a, k) => (a[k] = (a[k] ?? 0) + 1, a), {})');
  const pid = Number((await readFile(b.ours.pidFile, 'utf8')).trim());
  const smaps = await memoryOf([pid]);
  const anon = /^Anonymous:\s+(\d+) kB/m.exec(await readFile(`/proc/${pid}/smaps_rollup`, 'utf8'));
  const row = {
    step: label,
    listeners: b.made.length,
    before_gc_mib: Object.fromEntries(Object.entries(before).map(([k, v]) => [k, mib(v)])),
    after_gc_mib: Object.fromEntries(Object.entries(after).map(([k, v]) => [k, mib(v)])),
    smaps_mib: { rss: mib(smaps.rss * 1024), pss: mib(smaps.pss * 1024), anonymous: mib(Number(anon?.[1] ?? 0) * 1024) },
    spaces_before_gc_mib: spaceSizes(spacesBefore),
    spaces_mib: spaceSizes(spaces),
    mappings: await mappings(pid),
    handles,
    loadavg: (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' '),
    date: new Date().toISOString(),
  };
  if (b.trim) row.malloc_trim = await mallocTrim(b, pid);
  if (snapshot) {
    const file = join(b.out, `${label}.heapsnapshot`);
    const stream = createWriteStream(file);
    b.cdp.on('HeapProfiler.addHeapSnapshotChunk', ({ chunk }) => stream.write(chunk));
    await b.cdp.call('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
    await new Promise((resolve) => stream.end(resolve));
    row.snapshot = file;
  }
  b.steps.push(row);
  process.stdout.write(`${JSON.stringify(row)}\n`);
}

/**
 * What the agent allocates (collected or not) while `work` runs: V8's sampling heap profiler with
 * the objects that minor and major GCs took kept in the profile. Writes <out>/<label>.heapprofile
 * and returns the total and the largest allocating functions (self), with the first frame of the
 * agent's bundle above each.
 */
async function allocations(b, label, work) {
  if (!b.sample) return work();
  await b.cdp.call('HeapProfiler.startSampling', { samplingInterval: 8192, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  const t0 = Date.now();
  await work();
  const seconds = (Date.now() - t0) / 1000;
  const { profile } = await b.cdp.call('HeapProfiler.stopSampling');
  await writeFile(join(b.out, `${label}.heapprofile`), JSON.stringify(profile));
  const self = new Map();
  const byAgentFrame = new Map();
  let total = 0;
  const frame = (cf) => `${cf.functionName || '(anonymous)'} ${cf.url.split('/').pop()}:${cf.lineNumber + 1}`;
  const walk = (node, agentFrame) => {
    const cf = node.callFrame;
    const mine = cf.url.endsWith('amphora-agent.mjs') ? frame(cf) : agentFrame;
    total += node.selfSize;
    if (node.selfSize > 0) {
      const k = frame(cf);
      self.set(k, (self.get(k) ?? 0) + node.selfSize);
      const a = mine ?? '(no agent frame)';
      byAgentFrame.set(a, (byAgentFrame.get(a) ?? 0) + node.selfSize);
    }
    for (const c of node.children) walk(c, mine);
  };
  walk(profile.head, undefined);
  const topOf = (m) => [...m.entries()].sort((x, y) => y[1] - x[1]).slice(0, 15).map(([k, v]) => `${mib(v)} MiB ${k}`);
  const row = { step: `alloc-${label}`, seconds, allocated_mib: mib(total), mib_per_s: mib(total / seconds), top_self: topOf(self), top_agent_frame: topOf(byAgentFrame) };
  b.steps.push(row);
  process.stdout.write(`${JSON.stringify(row)}\n`);
}

/**
 * With AGENT_HEAP_TRIM: glibc's own account of node's malloc heap (malloc_stats(), which prints to
 * node's stderr, the agent's stdout file) and what malloc_trim(0) gives back to the kernel, called
 * in node through gdb (node stops while gdb is attached). Memory that malloc_trim returns was free
 * in malloc, not held by anything in the agent.
 */
async function mallocTrim(b, pid) {
  const stdoutFile = b.ours.logFiles[0];
  const from = (await readFile(stdoutFile)).length;
  const before = await mappings(pid);
  const r = await runCommand('gdb', ['-p', String(pid), '-batch', '-nx', '-ex', 'call (void)malloc_stats()', '-ex', 'call (int)malloc_trim(0)', '-ex', 'detach']);
  if (r.code !== 0) return { error: `gdb exit ${r.code}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}` };
  await sleep(500);
  const after = await mappings(pid);
  const stats = (await readFile(stdoutFile)).subarray(from).toString('utf8');
  const total = /Total \(incl\. mmap\):\s*\nsystem bytes\s*=\s*(\d+)\s*\nin use bytes\s*=\s*(\d+)/.exec(stats);
  const trimmed = /\$1 = (\d+)/.exec(r.stdout);
  return {
    malloc_system_mib: total ? mib(Number(total[1])) : null,
    malloc_in_use_mib: total ? mib(Number(total[2])) : null,
    trim_returned: trimmed ? Number(trimmed[1]) === 1 : null,
    arenas: [...stats.matchAll(/Arena (\d+):\s*\nsystem bytes\s*=\s*(\d+)\s*\nin use bytes\s*=\s*(\d+)/g)].map((m) => `${m[1]}: ${mib(Number(m[2]))} / ${mib(Number(m[3]))}`).join(', '),
    before_mib: before,
    after_mib: after,
  };
}

/**
 * The agent left alone for `seconds` (its heartbeat and reconcile jobs run): memoryUsage and
 * smaps every 15 s, no forced collection, as a reader of RSS (the scale suite) sees it.
 */
async function watch(b, label, seconds) {
  const pid = Number((await readFile(b.ours.pidFile, 'utf8')).trim());
  const rows = [];
  for (let t = 0; t <= seconds; t += 15) {
    if (t > 0) await sleep(15_000);
    const u = await b.cdp.value('process.memoryUsage()');
    const m = await mappings(pid);
    rows.push(`t=${t}s rss ${mib(u.rss)} heapTotal ${mib(u.heapTotal)} heapUsed ${mib(u.heapUsed)} brk ${m.brk_heap} arenas ${m.thread_arenas} anon ${m.anon_other}`);
  }
  const row = { step: `watch-${label}`, rows };
  b.steps.push(row);
  process.stdout.write(`${JSON.stringify(row)}\n`);
}

async function create(b, n) {
  const ids = Array.from({ length: n - b.made.length }, (_, i) => listenerId(b.made.length + i + 1));
  log(`agent-heap: creating ${ids.length} listener(s), 8 at a time, ${n} in all`);
  const out = await b.scale('create', { listener_ids: ids, parallel: 8 });
  b.made.push(...ids);
  return out;
}

async function main(cleanup) {
  const out = process.argv[2];
  if (!out) throw new Error('usage: agent-heap.mjs OUT_DIR');
  await mkdir(out, { recursive: true });
  const top = envInt('AGENT_HEAP_N', 200);
  const tmp = await makeTempDir(cleanup, 'amphora-agent-heap.');
  const pki = await makePki(join(tmp.dir, 'pki'));
  const ctx = { tmp, pki, cleanup };
  const ns = await testNamespace(ctx);
  await runCommand('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  const rx = await heartbeatReceiver(ctx, 'ours');
  const port = await freePort();
  const ours = await ourAgent(ctx, {
    name: 'heap',
    nodeArgs: [`--inspect=127.0.0.1:${port}`],
    settings: {
      amphora_agent: { network_namespace: ns },
      controller_worker: { loadbalancer_topology: 'ACTIVE_STANDBY' },
      health_manager: { controller_ip_port_list: rx.entry, heartbeat_interval: 10, heartbeat_key: 'insecure' },
    },
  });
  await addVeth(ctx, ns);
  await startOurs(ctx, ours, join(tmp.dir, 'upload.conf'));
  await client(ctx, ours, ['start-vrrp']);
  const spec = join(tmp.dir, 'scale-client.json');
  await writeFile(spec, JSON.stringify({ certs: pki.dir, amphora_id: pki.amphoraId, tools: TOOLS, agents: [{ name: 'ours', base_url: ours.baseUrl, namespace: ns }] }));
  const server = await pythonServer(ctx, 'scale_client', [join(REPO, 'bench', 'scale_client.py'), spec]);
  const snapshots = new Set((process.env.AGENT_HEAP_SNAPSHOTS ?? '').split(',').filter(Boolean));
  const b = { out, ours, snapshots, trim: Boolean(process.env.AGENT_HEAP_TRIM), sample: Boolean(process.env.AGENT_HEAP_SAMPLE), settle: envInt('AGENT_HEAP_SETTLE', 5), made: [], steps: [] };
  b.scale = async (cmd, args) => {
    await server.ready;
    const res = await server.request(JSON.stringify({ cmd, agent: 'ours', ...args }));
    if (res.errors.length > 0) throw new Error(`scale_client.py ${cmd}: ${res.errors.slice(0, 3).join(' || ')}`);
    return res;
  };
  b.cdp = await inspector(port);
  try {
    await step(b, 'n0');
    await create(b, 1);
    await step(b, 'n1');
    await allocations(b, `create-n${top}`, () => create(b, top));
    await watch(b, `n${top}`, envInt('AGENT_HEAP_WATCH', 120));
    await step(b, `n${top}`);
    if (b.sample) await allocations(b, `idle-n${top}`, () => sleep(envInt('AGENT_HEAP_IDLE', 30) * 1000));
    await allocations(b, `used-n${top}`, async () => {
      for (let r = 0; r < envInt('AGENT_HEAP_ROUNDS', 3); r++) {
        await b.scale('list', { agents: ['ours'], n: 20 });
        await b.scale('pairs', { n: 5, targets: [{ agent: 'ours', listener_id: listenerId(1) }] });
      }
    });
    await step(b, `n${top}-used`);
    log(`agent-heap: deleting ${b.made.length} listener(s), 8 at a time`);
    await b.scale('delete', { listener_ids: b.made, parallel: 8 });
    b.made = [];
    await step(b, 'deleted');
  } finally {
    await writeFile(join(out, 'steps.json'), `${JSON.stringify(b.steps, null, 1)}\n`);
    if (b.made.length > 0) await server.request(JSON.stringify({ cmd: 'delete', agent: 'ours', listener_ids: b.made, parallel: 8 })).catch(() => {});
    // node waits for a connected debugger to go before it exits
    b.cdp.close();
    await ours.stop();
  }
}

const cleanup = new Cleanup();
try {
  await main(cleanup);
} catch (err) {
  log(`agent-heap failed: ${err?.stack ?? err}`);
  process.exitCode = 1;
} finally {
  await cleanup.runAll();
}
