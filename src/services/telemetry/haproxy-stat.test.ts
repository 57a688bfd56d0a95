/**
 * The `show stat` reader (services/telemetry/haproxy-stat.ts) on a real answer of haproxy 2.6
 * (__fixtures__/show-stat-haproxy-2.6.csv, how it was captured in __fixtures__/README.md), on
 * the same answer with its columns reordered and widened as a newer haproxy may write them, and
 * on what haproxy answers instead of stats. With a running haproxy:
 * test/integration/haproxy-sampler.test.ts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { haproxySampleOf, memberStatus, NotShowStat, parseShowStat, SAMPLE_COLUMNS } from './haproxy-stat.js';

const CAPTURE = readFileSync(new URL('./__fixtures__/show-stat-haproxy-2.6.csv', import.meta.url), 'utf8');
const LISTENER = 'aaaaaaaa-1111-4111-8111-111111111111';
const POOL = 'bbbbbbbb-2222-4222-8222-222222222222';
const BACKEND = `${POOL}:${LISTENER}`;
const member = (n: number) => `dddddddd-0000-4000-8000-00000000000${n}`;

/** What the capture shows (see __fixtures__/README.md): six requests, members 1…6. */
const EXPECTED = {
  kind: 'haproxy',
  loadBalancerId: 'lb-1',
  listeners: [{ id: LISTENER, status: 'OPEN', counters: { bin: 474, bout: 696, stot: 6, ereq: 0 }, scur: 0 }],
  pools: [
    {
      key: BACKEND,
      poolId: POOL,
      status: 'UP',
      members: { [member(1)]: 'UP', [member(2)]: 'DOWN', [member(3)]: 'DRAIN', [member(4)]: 'MAINT', [member(5)]: 'no check', [member(6)]: 'DOWN' },
    },
  ],
};

/** A CSV field as haproxy writes it: bare unless it holds a comma, a quote or a line break. */
const csvField = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/** The capture rewritten with `order` as its columns (unknown names get `fill`), haproxy's way. */
function rewrite(order: readonly string[], fill: (name: string) => string): string {
  const rows = parseShowStat(CAPTURE);
  const lines = rows.map((row) => `${order.map((name) => csvField(row[name] ?? fill(name))).join(',')},`);
  return `# ${order.join(',')},\n${lines.join('\n')}\n\n`;
}

describe('parseShowStat on haproxy 2.6', () => {
  it('keys each row by the header, leaving out the Prometheus exporter rows and the blank last line', () => {
    const rows = parseShowStat(CAPTURE);
    expect(CAPTURE).toMatch(/^prometheus-exporter-internal-endpoint,FRONTEND,/m);
    expect(rows.map((r) => [r['pxname'], r['svname']])).toEqual([
      [LISTENER, 'FRONTEND'],
      ...[1, 2, 3, 4, 5, 6].map((n) => [BACKEND, member(n)]),
      [BACKEND, 'BACKEND'],
    ]);
    expect(rows[0]).toMatchObject({ status: 'OPEN', bin: '474', bout: '696', stot: '6', scur: '0', ereq: '0', mode: 'http' });
    // the trailing comma of each line is no column
    expect(Object.keys(rows[0]!)).not.toContain('');
  });

  it("reads a quoted field (a member's reason phrase with a comma and quotes) without shifting the columns after it", () => {
    const failing = parseShowStat(CAPTURE).find((r) => r['svname'] === member(6))!;
    expect(CAPTURE).toContain('"Down, ""really"""');
    expect(failing).toMatchObject({ status: 'DOWN', check_status: 'L7STS', check_code: '503', last_chk: 'Down, "really"', check_desc: 'Layer7 wrong status', mode: 'http' });
  });

  it('refuses what is not a stats answer', () => {
    for (const answer of ['', '\n', 'Permission denied\n\n', 'Unknown command: show stat\n', '# be_id be_name srv_id\n']) {
      expect(() => parseShowStat(answer), JSON.stringify(answer)).toThrow(NotShowStat);
    }
  });

  it('keeps only the columns asked for, and the sample made from them is the full one', () => {
    const narrow = parseShowStat(CAPTURE, SAMPLE_COLUMNS);
    expect(Object.keys(narrow[0]!).sort()).toEqual([...SAMPLE_COLUMNS].sort());
    expect(haproxySampleOf('lb-1', narrow)).toEqual(haproxySampleOf('lb-1', parseShowStat(CAPTURE)));
    // the quote-free fast path reads the same fields as the quote-aware one
    const plain = CAPTURE.replace('"Down, ""really"""', 'Down');
    expect(parseShowStat(plain).map((r) => r['last_chk'])).toEqual(parseShowStat(CAPTURE).map((r) => (r['last_chk'] === 'Down, "really"' ? 'Down' : r['last_chk'])));
  });

  it('gives no rows for a haproxy without proxies but its header', () => {
    expect(parseShowStat('# pxname,svname,status,\n\n')).toEqual([]);
  });
});

describe('haproxySampleOf', () => {
  it('makes the listener, the pool with each member in the words Octavia reads (weight 0: DRAIN, disabled: MAINT) and the rows', () => {
    const sample = haproxySampleOf('lb-1', parseShowStat(CAPTURE));
    expect(sample).toMatchObject(EXPECTED);
    expect(sample.rows).toHaveLength(8);
    expect(sample.rows[0]).toEqual({ proxy: LISTENER, server: 'FRONTEND', status: 'OPEN', bin: 474, bout: 696, stot: 6, scur: 0, ereq: 0, econ: 0, eresp: 0 });
    // the two members that served the six requests in turn, and the weight-0 one as the heartbeat says it
    expect(sample.rows.find((r) => r.server === member(1))).toMatchObject({ proxy: BACKEND, status: 'UP', stot: 3, bin: 237, bout: 348 });
    expect(sample.rows.find((r) => r.server === member(5))).toMatchObject({ proxy: BACKEND, status: 'no check', stot: 3, bin: 237, bout: 348 });
    expect(sample.rows.find((r) => r.server === member(3))).toMatchObject({ status: 'DRAIN', stot: 0 });
    expect(sample.rows.at(-1)).toMatchObject({ proxy: BACKEND, server: 'BACKEND', status: 'UP', stot: 6 });
  });

  it('goes by column names: the same answer with its columns in reverse order and with columns it does not know', () => {
    const names = CAPTURE.slice(2, CAPTURE.indexOf('\n')).split(',').filter((n) => n !== '');
    const order = ['sess_other', ...names.reverse(), 'h3_open_connections', 'proto'];
    const wider = rewrite(order, (name) => (name === 'proto' ? 'tcp, quic' : '7'));
    expect(wider.split('\n')[1]!.startsWith('7,')).toBe(true);
    expect(haproxySampleOf('lb-1', parseShowStat(wider))).toEqual(haproxySampleOf('lb-1', parseShowStat(CAPTURE)));
  });

  it('keeps a backend not named <pool>:<listener> as it is, and a pool whose servers are all gone', () => {
    const csv = '# pxname,svname,status,weight,\nstatic,BACKEND,DOWN,0,\nother,m1,UP,1,\nother,BACKEND,UP,1,\n';
    expect(haproxySampleOf('lb', parseShowStat(csv)).pools).toEqual([
      { key: 'static', poolId: 'static', status: 'DOWN', members: {} },
      { key: 'other', poolId: 'other', status: 'UP', members: { m1: 'UP' } },
    ]);
  });
});

describe('memberStatus', () => {
  it('is DRAIN only for exactly UP with weight 0, as the reference spoofs it; other states pass as haproxy wrote them', () => {
    expect(memberStatus({ status: 'UP', weight: '0' })).toBe('DRAIN');
    expect(memberStatus({ status: 'UP', weight: '1' })).toBe('UP');
    expect(memberStatus({ status: 'UP 1/3', weight: '0' })).toBe('UP 1/3');
    expect(memberStatus({ status: 'DOWN 1/2', weight: '1' })).toBe('DOWN 1/2');
    expect(memberStatus({ status: 'DRAIN', weight: '0' })).toBe('DRAIN');
    expect(memberStatus({ status: 'MAINT', weight: '0' })).toBe('MAINT');
    expect(memberStatus({ status: 'no check', weight: '0' })).toBe('no check');
  });
});
