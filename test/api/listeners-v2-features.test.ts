/**
 * @module test/api/listeners-v2-features
 * API 2.0: the features the listener rules allow (SCTP, SOURCE_IP persistence by netmask or
 * prefix length, ONE_PACKET_SCHEDULING, HTTP monitors, dual stack) are accepted by POST
 * …/validate, and the rendered keepalived config holds them; free-text names are never rendered.
 * Over createApp with the fake runner and init (test/support/api-app).
 */
import { describe, expect, it } from 'vitest';
import { apiApp } from '../support/api-app.js';
import { member } from '../support/listener-fixtures.js';
import { accepted } from '../support/listener-refusals.js';
import { dualStack, ipv6, members, monitor, persistence, sctp, udp, v6, type Json } from '../support/listener-variants.js';

describe('the features the rules allow', () => {
  // [feature, listener, something the rendered text must hold]
  const features: [string, Json, RegExp][] = [
    ['SCTP with an SCTP monitor', sctp(), /protocol SCTP[\s\S]*misc_path "\/usr\/bin\/amphora-health-checker sctp -t 3 192\.0\.2\.11 5353"/],
    ['SOURCE_IP persistence, IPv4 netmask', udp(persistence({ type: 'SOURCE_IP', persistence_timeout: 60, persistence_granularity: '255.255.0.0' })), /persistence_timeout 60\n\s+persistence_granularity 255\.255\.0\.0\n/],
    ['SOURCE_IP persistence, IPv6 prefix length', ipv6(persistence({ type: 'SOURCE_IP', persistence_granularity: '64' })), /persistence_timeout 360\n\s+persistence_granularity 64\n/],
    ['SOURCE_IP persistence on a dual-stack VIP without granularity', dualStack(persistence({ type: 'SOURCE_IP' })), /vips-ipv4[\s\S]*persistence_timeout 360[\s\S]*vips-ipv6/],
    ['ONE_PACKET_SCHEDULING', udp(persistence({ type: 'ONE_PACKET_SCHEDULING' })), /protocol UDP\n\s+ops\n/],
    ['an HTTP monitor with a list of codes and a path', udp(monitor({ type: 'HTTP', http_method: 'GET', url_path: '/health?x=1', expected_codes: '200,202' })), /path \/health\?x=1\n\s+status_code 200 202\n/],
    ['a PING monitor on SCTP', sctp(monitor({ type: 'PING' })), /PING_CHECK/],
    ['dual stack with members of both families', dualStack(members(member(1), v6(2))), /real_server 192\.0\.2\.11 5353[\s\S]*real_server 2001:db8::12 5353/],
    ['free-text names are stored, never rendered', udp({ name: 'x\n}\nvirtual_server 1.2.3.4 53 {', default_pool: { name: '"$#{' } }), /^(?![\s\S]*1\.2\.3\.4)/],
  ];

  it.each(features)('%s', async (_feature, body, shape) => {
    const t = await apiApp();
    const res = await accepted(t, body);
    expect(res.body.rendered.text).toMatch(shape);
  });
});
