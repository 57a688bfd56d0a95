/**
 * @module test/e2e/guest/lib/traffic-client
 * The traffic generator (guest/traffic.mjs in the client namespace, see its commands) and the
 * reading of a stopped stream: per-window losses, the member each long-lived flow used, marks.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GUEST, LOGS, NODE, secs } from './context.mjs';
import { LineChild } from './line-child.mjs';

/** The traffic generator; undefined until startTraffic(). */
export let traffic;

export function startTraffic() {
  traffic = new LineChild('traffic', 'ip', ['netns', 'exec', 'client', NODE, join(GUEST, 'traffic.mjs')], join(LOGS, 'traffic.log'));
}

/** Per-window figures of a stream: datagrams sent and lost, fresh and on the long-lived flows. */
export function windows(stream, segments) {
  const out = {};
  for (const [label, from, to] of segments) {
    const recs = stream.records.filter((r) => r[0] >= from && r[0] < to);
    const fresh = recs.filter((r) => r[1] === -1);
    const pers = recs.filter((r) => r[1] >= 0);
    const per = {};
    for (const r of fresh) if (r[2]) per[r[2]] = (per[r[2]] ?? 0) + 1;
    out[label] = {
      seconds: secs(to - from),
      fresh_sent: fresh.length,
      fresh_lost: fresh.filter((r) => !r[2]).length,
      flow_sent: pers.length,
      flow_lost: pers.filter((r) => !r[2]).length,
      fresh_per_backend: per,
    };
  }
  return out;
}
/** The member each long-lived flow reached last before `t` and first after it. */
export function flowBackends(stream, flows, before, after) {
  const res = [];
  for (let k = 0; k < flows; k++) {
    const mine = stream.records.filter((r) => r[1] === k && r[2]);
    const b = mine.filter((r) => r[0] < before).at(-1)?.[2] ?? null;
    const a = mine.find((r) => r[0] >= after)?.[2] ?? null;
    res.push([b, a]);
  }
  return res;
}
export async function stopStream(name) {
  const stream = await traffic.request({ cmd: 'stream_stop' });
  writeFileSync(join(LOGS, `stream-${name}.json`), JSON.stringify(stream));
  return stream;
}
export const markAt = (stream, label) => stream.marks.find((m) => m.label === label)?.t;
