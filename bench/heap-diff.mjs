#!/usr/bin/env node
/**
 * Dev tool (not a suite): compares two V8 heap snapshots of one process (bench/agent-heap.mjs
 * takes them; node ids are stable within a process), to say what the later one holds that the
 * earlier did not.
 *
 *   node bench/heap-diff.mjs BASE.heapsnapshot LATER.heapsnapshot [TOP]
 *
 * Prints (sizes in KiB):
 * - totals: nodes and self size of each snapshot;
 * - by constructor: count and self size in each, and the difference, the TOP largest changes;
 * - new objects (ids absent from BASE) by constructor;
 * - who holds the new objects: each new object is charged to the first object of BASE met on its
 *   retainer chain (following the first strong retainer at each step), named with the edge that
 *   leaves it: `Holder.edge`. The TOP largest holders, with one sample path each.
 */
import { readFileSync } from 'node:fs';

function load(file) {
  const raw = JSON.parse(readFileSync(file, 'utf8'));
  const meta = raw.snapshot.meta;
  const nf = meta.node_fields;
  const ef = meta.edge_fields;
  const s = {
    nodes: raw.nodes,
    edges: raw.edges,
    strings: raw.strings,
    nodeTypes: meta.node_types[0],
    edgeTypes: meta.edge_types[0],
    N: nf.length,
    E: ef.length,
    iType: nf.indexOf('type'),
    iName: nf.indexOf('name'),
    iId: nf.indexOf('id'),
    iSize: nf.indexOf('self_size'),
    iEdges: nf.indexOf('edge_count'),
    eType: ef.indexOf('type'),
    eName: ef.indexOf('name_or_index'),
    eTo: ef.indexOf('to_node'),
  };
  s.count = s.nodes.length / s.N;
  // first edge index of every node
  s.firstEdge = new Uint32Array(s.count + 1);
  for (let i = 0, e = 0; i < s.count; i++) {
    s.firstEdge[i] = e;
    e += s.nodes[i * s.N + s.iEdges] * s.E;
    s.firstEdge[i + 1] = e;
  }
  return s;
}

const type = (s, i) => s.nodeTypes[s.nodes[i * s.N + s.iType]];
const id = (s, i) => s.nodes[i * s.N + s.iId];
const size = (s, i) => s.nodes[i * s.N + s.iSize];

/** What a node is called in the tables: objects by constructor, the rest by type (strings and code are many names). */
function label(s, i) {
  const t = type(s, i);
  const name = s.strings[s.nodes[i * s.N + s.iName]];
  if (t === 'object' || t === 'native' || t === 'closure' || t === 'synthetic') return `${name}${t === 'closure' ? '()' : ''}`;
  if (t === 'hidden' || t === 'array' || t === 'object shape') return `(${t}) ${name.slice(0, 40)}`;
  return `(${t})`;
}

function byLabel(s, filter = () => true) {
  const m = new Map();
  for (let i = 0; i < s.count; i++) {
    if (!filter(i)) continue;
    const k = label(s, i);
    const v = m.get(k) ?? { n: 0, bytes: 0 };
    v.n += 1;
    v.bytes += size(s, i);
    m.set(k, v);
  }
  return m;
}

function edgeName(s, e) {
  const t = s.edgeTypes[s.edges[e + s.eType]];
  const v = s.edges[e + s.eName];
  return t === 'element' || t === 'hidden' ? `[${v}]` : String(s.strings[v]);
}

/** Reverse strong edges: for every node, its retainers as [fromNode, edgeIndex] (first few only). */
function retainers(s) {
  const out = new Array(s.count);
  for (let i = 0; i < s.count; i++) {
    for (let e = s.firstEdge[i]; e < s.firstEdge[i + 1]; e += s.E) {
      const t = s.edgeTypes[s.edges[e + s.eType]];
      if (t === 'weak' || t === 'shortcut') continue;
      const to = s.edges[e + s.eTo] / s.N;
      (out[to] ??= []).push(i, e);
    }
  }
  return out;
}

const kib = (b) => Math.round(b / 102.4) / 10;

function main() {
  const [baseFile, laterFile, topArg] = process.argv.slice(2);
  if (!baseFile || !laterFile) throw new Error('usage: heap-diff.mjs BASE.heapsnapshot LATER.heapsnapshot [TOP]');
  const top = Number(topArg ?? 25);
  const a = load(baseFile);
  const b = load(laterFile);
  const total = (s) => { let t = 0; for (let i = 0; i < s.count; i++) t += size(s, i); return t; };
  console.log(`totals: base ${a.count} nodes ${kib(total(a))} KiB; later ${b.count} nodes ${kib(total(b))} KiB; diff ${kib(total(b) - total(a))} KiB`);

  const ma = byLabel(a);
  const mb = byLabel(b);
  const rows = [...new Set([...ma.keys(), ...mb.keys()])].map((k) => {
    const x = ma.get(k) ?? { n: 0, bytes: 0 };
    const y = mb.get(k) ?? { n: 0, bytes: 0 };
    return { k, n0: x.n, n1: y.n, kib0: kib(x.bytes), kib1: kib(y.bytes), dKiB: kib(y.bytes - x.bytes), dN: y.n - x.n };
  });
  rows.sort((p, q) => Math.abs(q.dKiB) - Math.abs(p.dKiB));
  console.log(`\nby constructor, largest changes of self size:`);
  console.table(rows.slice(0, top));

  const baseIds = new Set();
  for (let i = 0; i < a.count; i++) baseIds.add(id(a, i));
  const isNew = (i) => !baseIds.has(id(b, i));
  const fresh = byLabel(b, isNew);
  const freshRows = [...fresh.entries()].map(([k, v]) => ({ k, n: v.n, KiB: kib(v.bytes) })).sort((p, q) => q.KiB - p.KiB);
  console.log(`\nnew objects in later: ${freshRows.reduce((t, r) => t + r.n, 0)} nodes, ${kib(freshRows.reduce((t, r) => t + r.KiB * 1024, 0))} KiB`);
  console.table(freshRows.slice(0, top));

  const ret = retainers(b);
  const holderOf = new Map();
  const pathOf = new Map();
  // charge each new node to the first base node on its first-retainer chain
  for (let i = 0; i < b.count; i++) {
    if (!isNew(i)) continue;
    const path = [];
    let cur = i;
    let holder = '(no old holder)';
    const seen = new Set();
    for (let depth = 0; depth < 60; depth++) {
      const r = ret[cur];
      if (!r || r.length === 0) { holder = '(unreachable or root)'; break; }
      // prefer a retainer that is old, else the first one not seen yet
      let pick = -1;
      for (let j = 0; j < r.length; j += 2) if (!isNew(r[j])) { pick = j; break; }
      if (pick < 0) for (let j = 0; j < r.length; j += 2) if (!seen.has(r[j])) { pick = j; break; }
      if (pick < 0) { holder = '(cycle of new)'; break; }
      const from = r[pick];
      const e = r[pick + 1];
      path.push(`${label(b, from)}.${edgeName(b, e)}`);
      if (!isNew(from)) { holder = `${label(b, from)}.${edgeName(b, e)}`; break; }
      seen.add(cur);
      cur = from;
    }
    const v = holderOf.get(holder) ?? { n: 0, bytes: 0 };
    v.n += 1;
    v.bytes += size(b, i);
    holderOf.set(holder, v);
    if (!pathOf.has(holder)) pathOf.set(holder, `${label(b, i)} <- ${path.slice(0, 8).join(' <- ')}`);
  }
  const holders = [...holderOf.entries()].map(([k, v]) => ({ holder: k, n: v.n, KiB: kib(v.bytes) })).sort((p, q) => q.KiB - p.KiB);
  console.log(`\nwho holds the new objects (first old object on the retainer chain):`);
  console.table(holders.slice(0, top));
  for (const h of holders.slice(0, Math.min(top, 15))) console.log(`  ${h.holder}: ${pathOf.get(h.holder)}`);
}

main();
