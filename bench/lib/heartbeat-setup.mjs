/**
 * @module bench/lib/heartbeat-setup
 * What the heartbeat suite sets up around our agent and reads back from it: the ids of its
 * listeners, the reference's view of our agent's files (a directory of symlinks laid out as the
 * reference's health daemon expects), and the heartbeats our agent logged.
 */
import { existsSync } from 'node:fs';
import { mkdir, open, stat, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const LB_ID = 'aaaaaaaa-0000-0000-0000-0000000000b7';
/** haproxy listeners (frontends of LB_ID) and pool-less LVS listeners. */
export const haproxyListenerId = (i) => `eeeeeeee-0000-0000-0001-${String(i).padStart(12, '0')}`;
export const lvsListenerId = (i) => `ffffffff-0000-0000-0002-${String(i).padStart(12, '0')}`;
/** haproxy refuses a stats socket path longer than this. */
const MAX_SOCKET_PATH = 97;

/**
 * Where the reference's health daemon looks for a load balancer's and an LVS listener's files
 * (util.py of Octavia 11, relative to base_path), against where our agent keeps them; the
 * differences are the notes. Then `refBase`: symlinks to our files at the reference's places,
 * so that its code reads our agent's live haproxy and keepalived without a change, and keeps its
 * own stats_counters.json (ours is in our base path).
 */
export async function mirrorForReference(ourBase, refBase, lbId) {
  const socket = join(ourBase, `${lbId}.sock`);
  if (socket.length > MAX_SOCKET_PATH) throw new Error(`our stats socket path is ${socket.length} characters, haproxy takes ${MAX_SOCKET_PATH}: ${socket}`);
  const places = [
    // [the reference's path, ours]
    [`${lbId}/haproxy.cfg`, `${lbId}/haproxy.cfg`],
    [`${lbId}/${lbId}.pid`, `${lbId}/${lbId}.pid`],
    [`${lbId}.sock`, `${lbId}.sock`],
    // made with the first LVS listener, maybe later: the link may dangle until then
    ['lvs', 'lvs', { later: true }],
  ];
  const notes = [];
  await mkdir(join(refBase, lbId), { recursive: true });
  for (const [theirs, ours, { later = false } = {}] of places) {
    if (!later && !existsSync(join(ourBase, ours))) throw new Error(`our agent has no ${ours} in its base path`);
    if (theirs !== ours) {
      const also = existsSync(join(ourBase, theirs)) ? ' (and also theirs)' : '';
      notes.push(`layout: the reference reads <base>/${theirs.replaceAll(lbId, '<lb>')}, our agent keeps <base>/${ours.replaceAll(lbId, '<lb>')}${also}`);
    }
    await symlink(join(ourBase, ours), join(refBase, theirs));
  }
  return notes;
}

export async function fileSize(file) {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}

/** The heartbeats our agent logged in `file` from byte `from` on: { seq, listeners, pools, buildMs }. */
export async function loggedBeats(file, from) {
  const handle = await open(file, 'r');
  let text;
  try {
    const size = (await handle.stat()).size;
    const buf = Buffer.alloc(Math.max(0, size - from));
    await handle.read(buf, 0, buf.length, from);
    text = buf.toString('utf8');
  } finally {
    await handle.close();
  }
  const beats = [];
  for (const line of text.split('\n')) {
    if (!line.includes('heartbeat sent')) continue;
    try {
      const l = JSON.parse(line);
      if (l.msg === 'heartbeat sent' || l.msg === 'first heartbeat sent') beats.push({ seq: l.seq, listeners: l.listeners, pools: l.pools, buildMs: l.buildMs });
    } catch {
      // a line still being written
    }
  }
  return beats;
}

/** Waits until our agent logged `count` heartbeats from byte `from` on (throws after `timeoutMs`). */
export async function waitForBeats(file, from, count, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const beats = await loggedBeats(file, from);
    if (beats.length >= count) return beats;
    if (Date.now() > deadline) throw new Error(`our agent logged ${beats.length} heartbeats, not ${count}, in ${timeoutMs / 1000} s`);
    await sleep(250);
  }
}
