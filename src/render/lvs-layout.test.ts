/**
 * The layout of what API 2.0 renders (lvsLayoutOf, stored at install) and what parseLvsLayout
 * reads back from the same text (used for state written before layouts were stored): for every
 * shape of listener they must agree, but for the addresses of disabled members, which only the
 * model knows. If the template's comments change, this fails.
 */
import { describe, expect, it } from 'vitest';
import { parseLvsLayout, type LvsLayout } from '../model/lvs-layout.js';
import { member, POOL } from '../../test/support/listener-fixtures.js';
import { renderLvsListener } from './lvs-view.js';
import { LISTENER, listener, monitor, settings, type Json } from '../../test/support/lvs-render-fixtures.js';

const v6member = (n: number, extra: Json = {}): Json => member(n, { address: `2001:db8:0::${10 + n}`, ...extra });

const shapes: [string, Json][] = [
  ['UDP-CONNECT monitor', {}],
  ['PING monitor', monitor({ type: 'PING' })],
  ['HTTP monitor', monitor({ type: 'HTTP', url_path: '/healthz' })],
  ['SCTP', { protocol: 'SCTP', protocol_port: 2905, default_pool: { health_monitor: { type: 'SCTP' } } }],
  ['no monitor', { default_pool: { health_monitor: null } }],
  ['disabled monitor', monitor({ admin_state_up: false })],
  ['weights and a disabled member', { default_pool: { members: [member(1, { weight: 0 }), member(2, { admin_state_up: false }), member(3)] } }],
  ['only disabled members', { default_pool: { members: [member(1, { admin_state_up: false })] } }],
  ['no members', { default_pool: { members: [] } }],
  ['disabled listener', { admin_state_up: false }],
  ['disabled pool', { default_pool: { admin_state_up: false } }],
  ['no pool', { default_pool: null }],
  [
    'dual stack, three VIPs',
    { vip_addresses: ['203.0.113.10', '2001:db8::1', '198.51.100.10'], default_pool: { members: [member(1), v6member(2), member(3, { admin_state_up: false }), v6member(4, { admin_state_up: false })] } },
  ],
];

/** What the text cannot say: where a disabled member would be. */
const withoutDisabledAddresses = (layout: LvsLayout): LvsLayout => ({
  ...layout,
  pool: layout.pool && { ...layout.pool, members: layout.pool.members.map((m) => (m.disabled ? { ...m, address: null, port: null } : m)) },
});

describe('the layout of an API 2.0 render', () => {
  it.each(shapes)('%s: the stored layout and the one read from the text agree', (_name, patch) => {
    const { text, layout } = renderLvsListener(listener(patch), LISTENER, settings);
    expect(parseLvsLayout(text)).toEqual(withoutDisabledAddresses(layout));
  });

  it('knows every VIP, the members by id with canonical addresses, the disabled ones, and whether a checker runs', () => {
    const l = listener({ vip_addresses: ['203.0.113.10', '2001:db8::1'], default_pool: { members: [member(1), v6member(2), v6member(3, { admin_state_up: false })] } });
    expect(renderLvsListener(l, LISTENER, settings).layout).toEqual({
      listenerDisabled: false,
      virtualServers: [
        { address: '203.0.113.10', port: 53 },
        { address: '2001:db8::1', port: 53 },
      ],
      pool: {
        id: POOL,
        checked: true,
        members: [
          { id: 'dddddddd-0000-0000-0000-000000000001', address: '192.0.2.11', port: 5353, disabled: false },
          { id: 'dddddddd-0000-0000-0000-000000000002', address: '2001:db8::12', port: 5353, disabled: false },
          { id: 'dddddddd-0000-0000-0000-000000000003', address: '2001:db8::13', port: 5353, disabled: true },
        ],
      },
    });
  });

  it('a disabled listener is marked, a disabled pool or none gives no pool (as the reference reports them)', () => {
    expect(renderLvsListener(listener({ admin_state_up: false }), LISTENER, settings).layout).toMatchObject({ listenerDisabled: true, virtualServers: [], pool: null });
    expect(renderLvsListener(listener({ default_pool: { admin_state_up: false } }), LISTENER, settings).layout).toMatchObject({ listenerDisabled: false, pool: null });
  });
});
