/**
 * /metrics over a real haproxy 2.6: the metrics listener (plain HTTP on loopback, started by
 * startMetricsListener as main.ts does) reads the HaproxyStatsSampler and the daemons' pid files
 * of a load balancer the agent rendered and runs under the `direct` adapter in a namespace of the
 * test's own. Requests sent through the VIP show in the frontend's and the serving member's
 * counters, the member whose HTTP check is refused is down, and a stopped haproxy shows as not
 * wanted, not alive, and without families.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/log.js';
import { startMetricsListener, type MetricsListener } from '../../src/metrics-listener.js';
import { listenerSchema } from '../../src/model/listener/schema.js';
import type { Uuid } from '../../src/model/uuid.js';
import { renderHaproxyConfig } from '../../src/render/haproxy-view.js';
import { DaemonLivenessReader } from '../../src/services/metrics/daemon-liveness.js';
import { HaproxyStatsSampler } from '../../src/services/telemetry/haproxy-sampler.js';
import { ExecaRunner } from '../../src/system/exec.js';
import { directHaproxyHarness, haproxyNamespace, removeHaproxyNamespace } from '../support/haproxy-namespace.js';
import { SYSTEM_PYTHON, sh, show, uniqueName, waitFor } from '../support/keepalived-fixture.js';
import { parsePromText, type PromText } from '../support/prom-text.js';
import { tierCanRun } from '../support/requirements.js';

const canRun = tierCanRun('integration: /metrics over a real haproxy', { root: true, binaries: ['haproxy', 'ip', 'curl'], files: ['/usr/sbin/haproxy', SYSTEM_PYTHON] });

const VIP = '203.0.113.41';
const BODY = 'metered';
const SERVED_PORT = 18491;
/** Nothing listens here: the member's HTTP check is refused. */
const UNSERVED_PORT = 18492;

function scrapeText(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/metrics', timeout: 30_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`GET /metrics: ${res.statusCode}: ${body}`))));
    });
    req.on('timeout', () => req.destroy(new Error('GET /metrics: no answer in time')));
    req.on('error', reject);
    req.end();
  });
}

describe.skipIf(!canRun)('/metrics: real haproxy 2.6', () => {
  const ns = uniqueName('hm');
  const log = silentLogger();
  const lb = randomUUID() as Uuid;
  const listener = randomUUID();
  const pool = randomUUID();
  const served = randomUUID();
  const unserved = randomUUID();
  let dir: string;
  let t: Awaited<ReturnType<typeof directHaproxyHarness>>;
  let metrics: MetricsListener | undefined;

  const scrape = async (): Promise<PromText> => parsePromText(await scrapeText(metrics?.port ?? 0));
  const fe = { load_balancer_id: lb, proxy: listener, listener_id: listener };
  const be = { load_balancer_id: lb, proxy: `${pool}:${listener}`, pool_id: pool };
  const member = (id: string) => ({ ...be, member_id: id });

  beforeAll(async () => {
    await haproxyNamespace(ns, VIP, [{ port: SERVED_PORT, body: BODY, label: 'the served member' }]);
    dir = await mkdtemp(join(tmpdir(), 'aat-hm-'));
    const runner = new ExecaRunner(log, 60_000);
    t = await directHaproxyHarness({ dir, ns, runner, log });
    const config = parseConfig([{ path: '/m.conf', text: '[prometheus]\nenabled = true\nbind_host = 127.0.0.1\nbind_port = 0\ntls = false\n' }]).config;
    metrics = await startMetricsListener(
      config,
      { haproxy: new HaproxyStatsSampler({ state: t.state, paths: t.paths, log, timeoutMs: () => 10_000 }), daemons: new DaemonLivenessReader(t.state, t.specs, t.paths), processMetrics: false },
      log,
    );
    const model = listenerSchema.parse({
      loadbalancer_id: lb,
      vip_addresses: [VIP],
      protocol: 'HTTP',
      protocol_port: 80,
      default_pool: {
        id: pool,
        lb_algorithm: 'ROUND_ROBIN',
        members: [
          { id: served, address: '127.0.0.1', protocol_port: SERVED_PORT },
          { id: unserved, address: '127.0.0.1', protocol_port: UNSERVED_PORT },
        ],
        health_monitor: { id: randomUUID(), type: 'HTTP', delay: 1, timeout: 1, max_retries: 1, url_path: '/', expected_codes: '200' },
      },
    });
    await t.haproxy.apply(lb, renderHaproxyConfig(lb, [{ id: listener, listener: model }], t.specs.haproxyRenderSettings(lb)), [listener]);
  });

  afterAll(async () => {
    await metrics?.close();
    await removeHaproxyNamespace(ns, dir);
  });

  it('shows the served member up and the one whose check is refused down, and haproxy wanted and alive', async () => {
    let last = '';
    const text = await waitFor(
      'the unserved member down in /metrics',
      async () => {
        const m = await scrape();
        last = m.find('amphora_haproxy_server_status').map((s) => `${s.labels['member_id']} ${s.labels['status']}`).join(', ');
        return m.find('amphora_haproxy_server_up', member(unserved))[0]?.value === 0 && m;
      },
      30_000,
      () => `last statuses: ${last}`,
    );
    expect(text.value('amphora_haproxy_server_up', member(served))).toBe(1);
    expect(text.value('amphora_haproxy_server_status', { ...member(unserved), status: 'DOWN' })).toBe(1);
    expect(text.value('amphora_haproxy_backend_up', be)).toBe(1);
    expect(text.value('amphora_haproxy_frontend_status', { ...fe, status: 'OPEN' })).toBe(1);
    expect(text.value('amphora_daemon_wanted', { daemon: 'haproxy', load_balancer_id: lb })).toBe(1);
    expect(text.value('amphora_daemon_alive', { daemon: 'haproxy', load_balancer_id: lb })).toBe(1);
    expect(text.value('amphora_metrics_source_up', { source: 'haproxy' })).toBe(1);
  });

  it("counts requests sent through the VIP in the frontend's and the serving member's counters", async () => {
    const before = await scrape();
    for (let i = 0; i < 5; i++) {
      const r = await sh('ip', ['netns', 'exec', ns, 'curl', '-sS', '--max-time', '5', `http://${VIP}:80/`]);
      expect(r.stdout, show(r)).toBe(BODY);
    }
    const after = await scrape();
    const grew = (name: string, labels: Record<string, string>) => after.value(name, labels) - before.value(name, labels);
    expect(grew('amphora_haproxy_frontend_sessions_total', fe)).toBe(5);
    expect(grew('amphora_haproxy_backend_sessions_total', be)).toBe(5);
    expect(grew('amphora_haproxy_server_sessions_total', member(served))).toBe(5);
    expect(grew('amphora_haproxy_server_sessions_total', member(unserved))).toBe(0);
    expect(grew('amphora_haproxy_frontend_bytes_in_total', fe)).toBeGreaterThan(0);
    expect(grew('amphora_haproxy_server_bytes_out_total', member(served))).toBeGreaterThanOrEqual(5 * BODY.length);
    expect(grew('amphora_haproxy_frontend_request_errors_total', fe)).toBe(0);
    expect(after.types.get('amphora_haproxy_frontend_sessions_total')).toBe('counter');
  });

  it('shows a stopped haproxy as neither wanted nor alive, with no families of its load balancer', async () => {
    await t.haproxy.act(lb, 'stop');
    const text = await scrape();
    expect(text.value('amphora_daemon_wanted', { daemon: 'haproxy', load_balancer_id: lb })).toBe(0);
    expect(text.value('amphora_daemon_alive', { daemon: 'haproxy', load_balancer_id: lb })).toBe(0);
    expect(text.find('amphora_haproxy_frontend_sessions_total', { load_balancer_id: lb })).toEqual([]);
  });
});
