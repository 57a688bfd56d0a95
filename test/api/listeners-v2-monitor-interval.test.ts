/**
 * @module test/api/listeners-v2-monitor-interval
 * API 2.0: `[api_settings] udp_connect_min_interval_health_monitor`, the one setting of the
 * listener rules: the shortest delay of a UDP-CONNECT monitor, 3 by default, configurable, and
 * off at 0. Over createApp with the fake runner and init (test/support/api-app).
 */
import { describe, expect, it } from 'vitest';
import { apiApp } from '../support/api-app.js';
import { HM_AT, accepted, one, refused } from '../support/listener-refusals.js';
import { monitor, sctp, udp } from '../support/listener-variants.js';

describe('[api_settings] udp_connect_min_interval_health_monitor', () => {
  it('defaults to 3: delay 3 is accepted, delay 2 refused; other monitor types have no minimum', async () => {
    const t = await apiApp();
    expect(await refused(t, udp(monitor({ delay: 2, timeout: 1 })))).toEqual(one(`${HM_AT}.delay`, 'UDP-CONNECT monitors need a delay of at least 3 seconds'));
    await accepted(t, udp(monitor({ delay: 3, timeout: 2 })));
    await accepted(t, udp(monitor({ type: 'TCP', delay: 2, timeout: 1 })));
  });

  it('takes the configured value', async () => {
    const t = await apiApp('[api_settings]\nudp_connect_min_interval_health_monitor = 10\n');
    // the fixture's delay of 5 is now too short
    expect(await refused(t, udp())).toEqual(one(`${HM_AT}.delay`, 'UDP-CONNECT monitors need a delay of at least 10 seconds'));
    await accepted(t, udp(monitor({ delay: 10 })));
    await accepted(t, sctp(monitor({ delay: 5 })));
  });

  it('0 turns it off', async () => {
    const t = await apiApp('[api_settings]\nudp_connect_min_interval_health_monitor = 0\n');
    await accepted(t, udp(monitor({ delay: 2, timeout: 1 })));
  });
});
