/**
 * @module test/api/listeners-v2-injection
 * API 2.0: every string of a listener that reaches a config file is refused, with its JSON path
 * and the rule's message, when it carries a character that could add a directive (newline,
 * braces, quotes, comment marks, blanks, control characters); the same fields pass without
 * them, and the listener id in the URL must be a UUID. Over createApp with the fake runner and
 * init (test/support/api-app).
 */
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { listenerViolations } from '../../src/model/listener/rules.js';
import { parseListenerShape } from '../../src/model/listener/schema.js';
import { apiApp } from '../support/api-app.js';
import { member } from '../support/listener-fixtures.js';
import { COOKIE, EXPECTED_CODES, HM_AT, MEMBERS_AT, NETMASK, SP_AT, URL_PATH, one, refused } from '../support/listener-refusals.js';
import { http, ipv6, members, monitor, persistence, udp, type Json } from '../support/listener-variants.js';

const INJECTIONS = ['\n}\nvirtual_server 192.0.2.99 53 {', '"', '{', '}', '$x', '#', '!', ' ', '\t', '\u0000', '\u001b'];

// [field, how to build the body with this value, path, message]
const stringFields: [string, (bad: string) => Json, string, string][] = [
  ['url_path', (bad) => udp(monitor({ type: 'HTTP', url_path: `/ok${bad}` })), `${HM_AT}.url_path`, URL_PATH],
  ['expected_codes', (bad) => udp(monitor({ type: 'HTTP', expected_codes: `200${bad}` })), `${HM_AT}.expected_codes`, EXPECTED_CODES],
  [
    'persistence_granularity (IPv4)',
    (bad) => udp(persistence({ type: 'SOURCE_IP', persistence_granularity: `255.255.255.0${bad}` })),
    `${SP_AT}.persistence_granularity`,
    NETMASK,
  ],
  ['persistence_granularity (IPv6)', (bad) => ipv6(persistence({ type: 'SOURCE_IP', persistence_granularity: `64${bad}` })), `${SP_AT}.persistence_granularity`, NETMASK],
  ['cookie_name (HTTP listener)', (bad) => http(persistence({ type: 'APP_COOKIE', cookie_name: `sid${bad}` })), `${SP_AT}.cookie_name`, COOKIE],
  ['vip_addresses', (bad) => udp({ vip_addresses: [`203.0.113.10${bad}`] }), '$.vip_addresses[0]', 'must be an IPv4 or IPv6 address'],
  ['an IPv6 VIP with a zone', (bad) => ipv6({ vip_addresses: [`2001:db8::1%eth0${bad}`] }), '$.vip_addresses[0]', 'must be an IPv4 or IPv6 address'],
  ['member address', (bad) => udp(members(member(1, { address: `192.0.2.11${bad}` }))), `${MEMBERS_AT}[0].address`, 'must be an IPv4 or IPv6 address'],
  ['member monitor_address', (bad) => udp(members(member(1, { monitor_address: `192.0.2.99${bad}` }))), `${MEMBERS_AT}[0].monitor_address`, 'must be an IPv4 or IPv6 address'],
  ['loadbalancer_id', (bad) => udp({ loadbalancer_id: `aaaaaaaa-0000-0000-0000-000000000001${bad}` }), '$.loadbalancer_id', 'must be a lower-case UUID'],
  ['pool id', (bad) => udp({ default_pool: { id: `bbbbbbbb-0000-0000-0000-000000000001${bad}` } }), '$.default_pool.id', 'must be a lower-case UUID'],
  ['member id', (bad) => udp(members(member(1, { id: `dddddddd-0000-0000-0000-000000000001${bad}` }))), `${MEMBERS_AT}[0].id`, 'must be a lower-case UUID'],
  ['health monitor id', (bad) => udp(monitor({ id: `cccccccc-0000-0000-0000-000000000001${bad}` })), `${HM_AT}.id`, 'must be a lower-case UUID'],
];

describe('strings that reach a config file cannot carry a directive', () => {
  const cases = stringFields.flatMap(([field, body, path, message]) =>
    INJECTIONS.map((bad) => [field, JSON.stringify(bad), body(bad), path, message] as const),
  );

  it.each(cases)('%s with %s', async (_field, _bad, body, path, message) => {
    const t = await apiApp();
    expect(await refused(t, body)).toEqual(one(path, message));
  });

  it('each field passes shape and rules without the injected characters (so the refusals above are about them)', () => {
    for (const [field, body] of stringFields) {
      const shape = parseListenerShape(body(''));
      expect(shape.ok, field).toBe(true);
      if (shape.ok) expect(listenerViolations(shape.listener, { udpConnectMinDelay: 3 }), field).toEqual([]);
    }
  });

  it('refuses a listener id that is not a UUID, in the URL', async () => {
    const t = await apiApp();
    for (const id of ['eeeeeeee-0000-0000-0000-000000000011%0A%7D', 'eeeeeeee-0000-0000-0000-000000000011%22', '..%2F..%2Fetc']) {
      const res = await request(t.app).put(`/2.0/listeners/${id}`).send(JSON.stringify(udp())).expect(400);
      expect(res.body).toMatchObject({ code: 'invalid_input' });
      expect(res.body.details).toMatch(/^listener id must be a UUID/);
    }
    expect(t.init.calls).toEqual([]);
  });
});
