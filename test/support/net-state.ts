/**
 * @module test/support/net-state
 * One interface's state inside a namespace in comparable form, read with `ip -j` and `nft -j`:
 * MTU, up, addresses, routes (every table but `local`), the namespace's rules and nftables
 * ruleset (handles dropped). Link-local addresses and their routes are left out: they are the
 * kernel's. For tests that compare a bring-up with the reference's or with an earlier one.
 */
import { must } from './commands.js';

export const ipJson = async (ns: string, args: string[]) => JSON.parse((await must('ip', ['-n', ns, '-j', ...args])).stdout || '[]') as Record<string, unknown>[];

export interface NetState {
  readonly mtu: unknown;
  readonly up: boolean;
  readonly addresses: string[];
  readonly routes: string[];
  readonly rules: string[];
  readonly nft: string[];
}

export async function netState(ns: string, dev: string): Promise<NetState> {
  const j = ipJson;
  const addrs = (await j(ns, ['addr', 'show', 'dev', dev])).flatMap((l) => (l['addr_info'] as Record<string, unknown>[]) ?? []);
  const routes = [...(await j(ns, ['-4', 'route', 'show', 'table', 'all', 'dev', dev])), ...(await j(ns, ['-6', 'route', 'show', 'table', 'all', 'dev', dev]))];
  const rules = [...(await j(ns, ['-4', 'rule', 'show'])), ...(await j(ns, ['-6', 'rule', 'show']))];
  const nft = JSON.parse((await must('ip', ['netns', 'exec', ns, 'nft', '-j', 'list', 'ruleset'])).stdout) as { nftables: Record<string, Record<string, unknown>>[] };
  const link = (await j(ns, ['link', 'show', 'dev', dev]))[0]!;
  const linkLocal = (s: unknown) => String(s).startsWith('fe80') || String(s).startsWith('ff00');
  return {
    mtu: link['mtu'],
    up: (link['flags'] as string[]).includes('UP'),
    addresses: addrs.filter((a) => !linkLocal(a['local'])).map((a) => `${String(a['local'])}/${String(a['prefixlen'])}`).sort(),
    routes: routes
      .filter((r) => !linkLocal(r['dst']) && r['table'] !== 'local')
      .map((r) => [r['dst'], r['gateway'], r['table'] ?? 'main', r['protocol'], r['scope'], r['prefsrc'], ((r['flags'] as string[]) ?? []).filter((f) => f === 'onlink')].join(' '))
      .sort(),
    rules: rules.map((r) => `${String(r['src'])}/${String(r['srclen'] ?? '')} ${String(r['table'])}`).sort(),
    nft: nft.nftables
      .filter((i) => !i['metainfo'])
      .map((i) => {
        const [kind, body] = Object.entries(i)[0]!;
        const { handle: _h, ...rest } = body as Record<string, unknown>;
        return `${kind} ${JSON.stringify(rest)}`;
      })
      .sort(),
  };
}
