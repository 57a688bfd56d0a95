import { describe, expect, it } from 'vitest';
import { buildHeartbeatMessage, snapshotListeners } from './message.js';
import { haproxyLb, HTTP_LISTENER, HTTP_POOL, lvsListener, MEMBER_1, MEMBER_2, UDP_LISTENER, UDP_POOL } from './samples.fixtures.js';

const AMP = '11111111-2222-3333-4444-555555555555';

describe('buildHeartbeatMessage', () => {
  it('is a v3 message with no listener and no pool when nothing runs', () => {
    expect(buildHeartbeatMessage(AMP, 0, { haproxy: [], lvs: [] }, new Map())).toEqual({ id: AMP, seq: 0, listeners: {}, pools: {}, ver: 3 });
  });

  it('reports deltas as tx/rx/totconns/ereq, current connections as conns, and pools under their keys', () => {
    const deltas = new Map([
      [HTTP_LISTENER, { bin: 11, bout: 22, stot: 3, ereq: 1 }],
      [UDP_LISTENER, { bin: 7, bout: 9, stot: 2, ereq: 0 }],
    ]);
    const msg = buildHeartbeatMessage(AMP, 12, { haproxy: [haproxyLb()], lvs: [lvsListener()] }, deltas);
    expect(msg).toEqual({
      id: AMP,
      seq: 12,
      listeners: {
        [HTTP_LISTENER]: { status: 'OPEN', stats: { tx: 22, rx: 11, conns: 2, totconns: 3, ereq: 1 } },
        [UDP_LISTENER]: { status: 'OPEN', stats: { tx: 9, rx: 7, conns: 3, totconns: 2, ereq: 0 } },
      },
      pools: {
        [`${HTTP_POOL}:${HTTP_LISTENER}`]: { status: 'UP', members: { [MEMBER_1]: 'UP', [MEMBER_2]: 'no check' } },
        [UDP_POOL]: { status: 'UP', members: { [MEMBER_1]: 'UP', [MEMBER_2]: 'DOWN' } },
      },
      ver: 3,
    });
    // the field order of the reference's message
    expect(Object.keys(msg)).toEqual(['id', 'seq', 'listeners', 'pools', 'ver']);
  });

  it('reports zeros for a listener without a delta, and no pool for an LVS listener without one', () => {
    const msg = buildHeartbeatMessage(AMP, 1, { haproxy: [], lvs: [lvsListener(null, false)] }, new Map());
    expect(msg.listeners).toEqual({ [UDP_LISTENER]: { status: 'OPEN', stats: { tx: 0, rx: 0, conns: 3, totconns: 0, ereq: 0 } } });
    expect(msg.pools).toEqual({});
  });

  it('lists haproxy listeners first, then LVS ones', () => {
    expect(snapshotListeners({ haproxy: [haproxyLb()], lvs: [lvsListener()] }).map((l) => l.id)).toEqual([HTTP_LISTENER, UDP_LISTENER]);
  });
});
