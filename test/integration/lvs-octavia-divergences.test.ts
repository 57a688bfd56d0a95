/**
 * @module test/integration/lvs-octavia-divergences
 * Two places where Octavia's LVS render (LvsJinjaTemplater, through test/support/
 * octavia-render.py) is wrong and the agent's is not, pinned with the real
 * `keepalived --config-test`: an IPv6 virtual server with SOURCE_IP persistence and no
 * granularity, and an HTTP monitor url path with "&". The equivalences everywhere else are
 * lvs-equivalence.test.ts's; the setup is shared (test/support/lvs-equivalence-env.ts).
 */
import { describe, expect, it } from 'vitest';
import { normalizeLvs, parseLvsConfig } from '../support/keepalived-lvs-parse.js';
import { lvsEquivalenceCanRun, lvsEquivalenceEnv } from '../support/lvs-equivalence-env.js';
import { listenerId, member, modelOf, monitor, pool, twoMembers, udp } from '../support/lvs-fixture-builders.js';

const canRun = lvsEquivalenceCanRun();

describe.skipIf(!canRun)('LVS configs: the agent’s render means what Octavia’s does', () => {
  const env = lvsEquivalenceEnv();

  describe('where Octavia’s render is wrong and the agent’s is not', () => {
    it('IPv6 SOURCE_IP persistence without granularity: Octavia writes an IPv4 mask and keepalived drops every real server', async () => {
      const listener = modelOf(
        udp(pool('ROUND_ROBIN', [member(1, '2001:db8::11', 53), member(2, '2001:db8::12', 53)], { session_persistence: { type: 'SOURCE_IP' }, health_monitor: monitor('TCP') }), {
          vip_addresses: ['2001:db8::10'],
        }),
      );
      const id = listenerId(101);
      const ours = env.ours(listener, id);
      const theirs = await env.theirs(listener, id);
      const vsTheirs = parseLvsConfig(theirs).virtualServers;
      expect(vsTheirs.map((v) => [v.family, v.persistenceGranularity])).toEqual([[6, '255.255.255.255']]);
      await expect(env.accepted('Octavia’s', theirs)).rejects.toThrow(/Address family of virtual server and real server 2001:db8::11 don't match - skipping real server/);

      const vsOurs = normalizeLvs(parseLvsConfig(ours)).virtualServers;
      expect(Object.values(vsOurs).map((v) => [v.persistence, v.realServers.length])).toEqual([[{ timeout: 360, granularity: '128' }, 2]]);
      await env.accepted('the agent’s', ours);
    });

    it('an HTTP url path with "&": Octavia HTML-escapes it (autoescape), so keepalived would request /probe?a=1&amp;b=2', async () => {
      const listener = modelOf(udp(pool('ROUND_ROBIN', twoMembers, { health_monitor: monitor('HTTP', { url_path: '/probe?a=1&b=2', expected_codes: '200' }) })));
      const id = listenerId(102);
      const ours = env.ours(listener, id);
      const theirs = await env.theirs(listener, id);
      const urls = (text: string) => [...new Set(parseLvsConfig(text).virtualServers.flatMap((v) => v.realServers.flatMap((r) => r.checks.flatMap((c) => c.urls ?? []))))];
      expect(urls(ours)).toEqual(['/probe?a=1&b=2 200']);
      expect(urls(theirs)).toEqual(['/probe?a=1&amp;b=2 200']);
      await env.accepted('the agent’s', ours);
      await env.accepted('Octavia’s', theirs);
    });
  });
});
