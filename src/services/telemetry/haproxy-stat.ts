/**
 * @module services/telemetry/haproxy-stat
 * Reads haproxy's answer to `show stat` (its CSV: a `# pxname,svname,…` header, then one line
 * per frontend, backend and server) into rows keyed by the header's column names, and turns the
 * rows of one load balancer into its sample: listeners from FRONTEND rows, pools from BACKEND
 * and server rows, in the words Octavia's health manager reads. Pure: the socket is the
 * sampler's (services/telemetry/haproxy-sampler.ts).
 *
 * Columns are found by name, never by position: haproxy adds columns between versions (2.6 has
 * about 110, 3.0 more), and an old position would silently read another figure.
 *
 * No CSV library: the format is one small dialect. haproxy leaves fields bare unless they hold a
 * comma, a double quote or a line break; then it double-quotes them and doubles the quotes. That
 * does happen: `last_chk` carries the reason phrase a member's HTTP server answered the health
 * check with (`"Down, ""really"""`), text the tenant's server chooses. A plain split on commas
 * would shift every later column of that row, so the splitter below honours the quotes.
 */

import type { HaproxyLoadBalancerSample, HaproxyProxySample, ListenerSample, PoolSample } from './samples.js';

/** One line of `show stat`: column name → field, as haproxy wrote it (empty when it wrote nothing). */
export type StatRow = Readonly<Record<string, string>>;

/** haproxy did not answer with its stats CSV (an error line such as "Permission denied", or nothing). */
export class NotShowStat extends Error {
  constructor(answer: string) {
    super(`haproxy did not answer with stats: ${JSON.stringify(answer.slice(0, 200))}`);
    this.name = 'NotShowStat';
  }
}

/** The records of a CSV text, each a list of fields; quoted fields may hold commas, quotes and line breaks. */
function csvRecords(text: string): string[][] {
  // the usual answer has no quote at all: a plain split is several times cheaper (every heartbeat and scrape parses it)
  if (!text.includes('"') && !text.includes('\r')) return text.replace(/\n$/, '').split('\n').map((line) => line.split(','));
  return quotedCsvRecords(text);
}

function quotedCsvRecords(text: string): string[][] {
  const records: string[][] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c !== '"') {
        field += c;
      } else if (text[i + 1] === '"') {
        field += '"';
        i++;
      } else {
        quoted = false;
      }
    } else if (c === '"') {
      quoted = true;
    } else if (c === ',') {
      fields.push(field);
      field = '';
    } else if (c === '\n') {
      fields.push(field);
      records.push(fields);
      fields = [];
      field = '';
    } else if (c !== '\r') {
      field += c;
    }
  }
  if (field !== '' || fields.length > 0) records.push([...fields, field]);
  return records;
}

/** The columns the sample and the metrics read: what `parseShowStat` keeps when asked for `SAMPLE_COLUMNS`. */
export const SAMPLE_COLUMNS: readonly string[] = ['pxname', 'svname', 'status', 'weight', 'bin', 'bout', 'stot', 'scur', 'ereq', 'econ', 'eresp'];

/**
 * Parses a `show stat` answer. Rows of proxies whose name contains "prometheus" are left out, as
 * the reference leaves them out: Octavia's config adds an internal Prometheus exporter frontend
 * and backend whose traffic is not the tenant's. Throws `NotShowStat` when the answer has no
 * header naming pxname, svname and status. With `columns`, a row keeps only those (a heartbeat
 * reads 11 of haproxy's ~110 columns, and building every row in full was most of its cost).
 */
export function parseShowStat(text: string, columns?: readonly string[]): StatRow[] {
  if (!text.startsWith('# ')) throw new NotShowStat(text);
  const [head, ...lines] = csvRecords(text.slice(2));
  const names = head ?? [];
  if (!['pxname', 'svname', 'status'].every((n) => names.includes(n))) throw new NotShowStat(text);
  // [name, index] of the columns kept; the trailing comma of each line gives a last column without a name: not a column
  const kept = names.map((name, i) => [name, i] as const).filter(([name]) => name !== '' && (columns === undefined || columns.includes(name)));
  const rows: StatRow[] = [];
  for (const fields of lines) {
    if (fields.length === 1 && fields[0] === '') continue; // the blank line that ends the answer
    const row: Record<string, string> = {};
    for (const [name, i] of kept) row[name] = fields[i] ?? '';
    if (!(row['pxname'] ?? '').includes('prometheus')) rows.push(row);
  }
  return rows;
}

/** A counter or gauge; haproxy leaves a field empty where it does not apply (e.g. ereq of a server). */
function num(row: StatRow, column: string): number {
  const value = Number(row[column] ?? '');
  return Number.isFinite(value) && value >= 0 ? value : 0;
}

const field = (row: StatRow, column: string): string => row[column] ?? '';

/**
 * A server's status as the heartbeat reports it: haproxy 2.x shows a server whose weight is 0 as
 * UP, which the reference reports as DRAIN (only exactly "UP": "UP 1/3", a server rising, stays).
 */
export function memberStatus(row: StatRow): string {
  const status = field(row, 'status');
  return status === 'UP' && field(row, 'weight') === '0' ? 'DRAIN' : status;
}

function listenerOf(row: StatRow): ListenerSample {
  return {
    id: field(row, 'pxname'),
    status: field(row, 'status'),
    counters: { bin: num(row, 'bin'), bout: num(row, 'bout'), stot: num(row, 'stot'), ereq: num(row, 'ereq') },
    scur: num(row, 'scur'),
  };
}

function proxyOf(row: StatRow): HaproxyProxySample {
  const server = field(row, 'svname');
  return {
    proxy: field(row, 'pxname'),
    server,
    status: server === 'FRONTEND' || server === 'BACKEND' ? field(row, 'status') : memberStatus(row),
    bin: num(row, 'bin'),
    bout: num(row, 'bout'),
    stot: num(row, 'stot'),
    scur: num(row, 'scur'),
    ereq: num(row, 'ereq'),
    econ: num(row, 'econ'),
    eresp: num(row, 'eresp'),
  };
}

/**
 * The pools of a load balancer: one per BACKEND row, keyed by the backend's name as it is
 * (`<pool id>:<listener id>` in Octavia's configs and ours; the pool id is what precedes the
 * colon), with the statuses of the servers of that proxy by server name (the member id).
 */
function poolsOf(rows: readonly StatRow[]): PoolSample[] {
  const members = new Map<string, Record<string, string>>();
  for (const row of rows) {
    const sv = field(row, 'svname');
    if (sv === 'FRONTEND' || sv === 'BACKEND') continue;
    const px = field(row, 'pxname');
    const pool = members.get(px) ?? {};
    pool[sv] = memberStatus(row);
    members.set(px, pool);
  }
  return rows
    .filter((row) => field(row, 'svname') === 'BACKEND')
    .map((row) => {
      const key = field(row, 'pxname');
      return { key, poolId: key.split(':')[0] ?? key, status: field(row, 'status'), members: members.get(key) ?? {} };
    });
}

/** The sample of one load balancer from the rows of its `show stat`. */
export function haproxySampleOf(loadBalancerId: string, rows: readonly StatRow[]): HaproxyLoadBalancerSample {
  return {
    kind: 'haproxy',
    loadBalancerId,
    listeners: rows.filter((row) => field(row, 'svname') === 'FRONTEND').map(listenerOf),
    pools: poolsOf(rows),
    rows: rows.map(proxyOf),
  };
}
