/**
 * parseLvsLayout on configs rendered by Octavia's own LvsJinjaTemplater (python3-octavia 11):
 * src/model/__fixtures__/octavia-lvs/<case>.conf, rendered by test/support/octavia-render.py
 * from the specs in specs.json there (the spec's defaults: listener 11111111-…, VIP
 * 203.0.113.10:53, pool bbbbbbbb-…, members 198.51.100.11 and .12 on 5353). The agent's own
 * template is read in render/lvs-layout.test.ts, against the layout of what it rendered.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseLvsLayout } from './lvs-layout.js';

const octavia = (name: string) => parseLvsLayout(readFileSync(new URL(`./__fixtures__/octavia-lvs/${name}.conf`, import.meta.url), 'utf8'));
const POOL = 'bbbbbbbb-0000-4000-8000-000000000001';
const m = (n: number) => `dddddddd-0000-4000-8000-00000000000${n}`;
const VIP = { address: '203.0.113.10', port: 53 };

describe('parseLvsLayout on the controller\'s renders', () => {
  it('binds each member id to its real server, keeps disabled members, and sees the UDP-CONNECT checker', () => {
    expect(octavia('udp-connect')).toEqual({
      listenerDisabled: false,
      virtualServers: [VIP],
      pool: {
        id: POOL,
        checked: true,
        members: [
          { id: m(1), address: '198.51.100.11', port: 5353, disabled: false },
          { id: m(2), address: '198.51.100.12', port: 5353, disabled: false },
          { id: m(3), address: null, port: null, disabled: true },
          { id: m(4), address: '198.51.100.14', port: 5354, disabled: false },
        ],
      },
    });
  });

  it('dual stack: every VIP of both groups (two IPv4 ones in one group), members of both families', () => {
    const layout = octavia('dual-stack');
    expect(layout.virtualServers).toEqual([VIP, { address: '203.0.113.11', port: 53 }, { address: '2001:db8::10', port: 53 }]);
    expect(layout.pool?.checked).toBe(true);
    expect(layout.pool?.members).toEqual([
      { id: m(1), address: '198.51.100.11', port: 5353, disabled: false },
      { id: m(4), address: '198.51.100.14', port: 5353, disabled: false },
      { id: m(2), address: '2001:db8:1::12', port: 5353, disabled: false },
      { id: m(3), address: null, port: null, disabled: true },
    ]);
  });

  it('tells a checked pool from one without a (enabled) monitor; HTTP_GET and the SCTP probe count', () => {
    expect(['no-monitor', 'monitor-disabled', 'http-monitor', 'sctp'].map((c) => octavia(c).pool?.checked)).toEqual([false, false, true, true]);
    expect(octavia('sctp').virtualServers).toEqual([{ address: '203.0.113.10', port: 5004 }]);
  });

  it('a disabled listener, a disabled pool, no pool, an empty pool, a pool of disabled members only', () => {
    expect(octavia('listener-disabled')).toEqual({ listenerDisabled: true, virtualServers: [], pool: null });
    // Octavia renders the virtual server of a disabled pool, without real servers, and the reference reports no pool
    expect(octavia('pool-disabled')).toEqual({ listenerDisabled: false, virtualServers: [VIP], pool: null });
    expect(octavia('no-pool')).toEqual({ listenerDisabled: false, virtualServers: [], pool: null });
    expect(octavia('empty-pool')).toEqual({ listenerDisabled: false, virtualServers: [VIP], pool: { id: POOL, checked: false, members: [] } });
    // no real server, so no checker in the text: the reference's "no monitor" (members MAINT, pool UP)
    expect(octavia('only-disabled').pool).toEqual({ id: POOL, checked: false, members: [{ id: m(1), address: null, port: null, disabled: true }] });
  });
});

describe('parseLvsLayout, beyond the reference', () => {
  const config = (body: string) => `# Configuration for Listener 11111111-0000-4000-8000-000000000001\nnet_namespace amphora-haproxy\n${body}`;

  it('counts PING_CHECK as a checker, and not a checker word inside a comment', () => {
    const rs = (check: string) =>
      config(`virtual_server 203.0.113.10 53 {\n  # Configuration for Pool ${POOL}\n  # Configuration for Member ${m(1)}\n  real_server 198.51.100.11 53 {\n    ${check}\n  }\n}\n`);
    expect(parseLvsLayout(rs('PING_CHECK {\n connect_timeout 3\n }')).pool?.checked).toBe(true);
    expect(parseLvsLayout(rs('# MISC_CHECK was here')).pool?.checked).toBe(false);
    expect(parseLvsLayout(rs('weight 1 # TCP_CHECK later')).pool?.checked).toBe(false);
  });

  it('reads a virtual server named by address as well as a group, in canonical spelling, and binds no real server without its member comment', () => {
    const layout = parseLvsLayout(
      config(`virtual_server 2001:DB8:0::10 53 {\n  # Configuration for Pool ${POOL}\n  real_server 2001:db8::20 53 {\n  }\n  # Configuration for Member ${m(2)}\n  real_server 2001:DB8::0:21 53 {\n  }\n}\n`),
    );
    expect(layout.virtualServers).toEqual([{ address: '2001:db8::10', port: 53 }]);
    expect(layout.pool?.members).toEqual([{ id: m(2), address: '2001:db8::21', port: 53, disabled: false }]);
  });

  it('only counts the addresses of the groups a virtual server uses', () => {
    const layout = parseLvsLayout(config('virtual_server_group unused {\n  198.51.100.99 53\n}\nvirtual_server_group used {\n  203.0.113.10 53\n}\nvirtual_server group used {\n}\n'));
    expect(layout.virtualServers).toEqual([VIP]);
  });
});
