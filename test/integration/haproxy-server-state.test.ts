/**
 * Server states across reloads with the real haproxy (API 1.0, as the controller drives it): a
 * config rendered by Octavia's own templater (`server-state-file <base>/<lb>/servers-state` in
 * global, `load-server-state-from-file global` in the health-checked backend) is uploaded and
 * started (the agent gives haproxy a state file without states, so it does not warn either);
 * the member whose server does not exist goes DOWN by its TCP check. A reload with a
 * changed config (weights, a check interval of a minute, so the new process cannot check again
 * during the test) must start the NEW process with that member DOWN at once, from the file the
 * agent saved through the stats socket (mode 0600), without haproxy's "Can't open" warning. The
 * control: the same reload of a config whose `server-state-file` names a file the agent refuses
 * to write starts the new process with the member UP, haproxy warning that it cannot open the
 * file: the old behaviour. The agent's services run over the real ExecaRunner and the `direct`
 * init adapter under a temporary root; haproxy runs in a network namespace of the test's own,
 * and the test reads haproxy's CLI with socat, not with the agent's client.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { silentLogger } from '../../src/log.js';
import type { Uuid } from '../../src/model/uuid.js';
import { ExecaRunner } from '../../src/system/exec.js';
import type { Paths } from '../../src/system/paths.js';
import { directHaproxyHarness, haproxyNamespace, removeHaproxyNamespace } from '../support/haproxy-namespace.js';
import { SYSTEM_PYTHON, sh, show, uniqueName, waitFor } from '../support/keepalived-fixture.js';
import { renderOctaviaHaproxy } from '../support/octavia-haproxy.js';
import { tierCanRun } from '../support/requirements.js';

const canRun = tierCanRun('integration: haproxy server states kept across reloads, direct supervision', {
  root: true,
  binaries: ['haproxy', 'ip', 'curl', 'socat'],
  files: ['/usr/sbin/haproxy', SYSTEM_PYTHON, '/usr/lib/python3/dist-packages/octavia/common/jinja/haproxy/combined_listeners/jinja_cfg.py'],
});

const VIP = '203.0.113.20';
const PORT_UP = 18281;
/** Nothing listens here: the member's TCP check fails. */
const PORT_DOWN = 18282;
/** haproxy's srv_op_state values (`show servers state`). */
const DOWN = '0';
const UP = '2';
const CANT_OPEN = /Can't open (global )?server state file/;

type ServerState = Record<string, string>;

/** `show servers state` rows by server name, each keyed by the header's column names. */
function parseServersState(text: string): Record<string, ServerState> {
  const lines = text.split('\n');
  const header = lines.find((l) => l.startsWith('# '))?.slice(2).split(' ');
  if (lines[0] !== '1' || header === undefined) throw new Error(`not a server state answer: ${text}`);
  const out: Record<string, ServerState> = {};
  for (const line of lines.slice(1)) {
    if (line === '' || line.startsWith('#')) continue;
    const row = Object.fromEntries(line.split(' ').map((v, i) => [header[i] ?? `col${i}`, v]));
    out[row['srv_name'] ?? ''] = row;
  }
  return out;
}

describe.skipIf(!canRun)('haproxy server states across reloads (API 1.0, Octavia-rendered config, real haproxy)', () => {
  const ns = uniqueName('hs');
  const AMP = randomUUID();
  const LB = randomUUID() as Uuid;
  const LISTENER = randomUUID();
  const POOL = randomUUID();
  const M_UP = randomUUID();
  const M_DOWN = randomUUID();
  const log = silentLogger();
  const runner = new ExecaRunner(log, 60_000);
  let dir: string;
  let paths: Paths;
  let app: ReturnType<typeof createApp>;

  /** Octavia's config; `delay` is the check interval, `weight` the up member's. */
  const render = (delay: number, weight: number) =>
    renderOctaviaHaproxy({
      base_path: paths.base,
      base_cert_dir: `${dir}/octavia/certs`,
      amphora_id: AMP,
      lb_id: LB,
      vip: VIP,
      listeners: [
        {
          id: LISTENER,
          protocol: 'TCP',
          port: 80,
          pool_id: POOL,
          connection_limit: 2000,
          members: [
            { id: M_UP, address: '127.0.0.1', port: PORT_UP, weight },
            { id: M_DOWN, address: '127.0.0.1', port: PORT_DOWN },
          ],
          health_monitor: { id: randomUUID(), type: 'TCP', delay, timeout: 1, fall: 1, rise: 1 },
        },
      ],
    });
  const uploadAndReload = async (text: string) => {
    await request(app).put(`/1.0/loadbalancer/${AMP}/${LB}/haproxy`).send(text).expect(202);
    const res = await request(app).put(`/1.0/loadbalancer/${LB}/reload`);
    expect(res.status, res.text).toBe(202);
    return res.body as { details: string };
  };
  /** One command on the stats socket, through socat. */
  const cli = async (command: string) => {
    const r = await sh('socat', ['stdio', `UNIX-CONNECT:${paths.haproxyStatsSocket(LB)}`], { input: `${command}\n` });
    if (r.code !== 0) throw new Error(`socat: ${show(r)}`);
    return r.stdout;
  };
  const servers = async () => parseServersState(await cli('show servers state'));
  const workerPid = async () => /^Pid: (\d+)$/m.exec(await cli('show info'))?.[1];
  const logText = () => readFile(paths.haproxyLogFile(LB), 'utf8');

  beforeAll(async () => {
    await haproxyNamespace(ns, VIP, [{ port: PORT_UP, body: 'up', label: 'the up member' }]);
    dir = await mkdtemp(join(tmpdir(), 'aat-hs-'));
    const t = await directHaproxyHarness({ dir, ns, runner, log });
    paths = t.paths;
    app = createApp({ ...t, log });
  });

  afterAll(() => removeHaproxyNamespace(ns, dir));

  it("starts Octavia's config from an empty state file (no warning); the member without a server goes DOWN by its check", async () => {
    const text = await render(1, 1);
    expect(text).toContain(`server-state-file ${paths.haproxyServersState(LB)}`);
    expect(text).toContain('load-server-state-from-file global');
    expect((await uploadAndReload(text)).details).toBe(`haproxy daemon for ${LB} started`);
    await waitFor('the member without a server to go DOWN', async () => (await servers())[M_DOWN]?.['srv_op_state'] === DOWN, 30_000);
    expect((await servers())[M_UP]?.['srv_op_state']).toBe(UP);
    expect(await readFile(paths.haproxyServersState(LB), 'utf8')).toBe('1\n');
    expect(await logText()).toMatch(/Loading success/);
    expect(await logText()).not.toMatch(/state file/i);
  });

  it('reloads a changed config: the new process starts with that member DOWN at once, from the state file the agent saved', async () => {
    const oldWorker = await workerPid();
    const logBefore = (await logText()).length;
    expect((await uploadAndReload(await render(60, 5))).details).toBe(`haproxy daemon for ${LB} reloaded`);
    expect(await workerPid()).not.toBe(oldWorker);
    const now = await servers();
    // no check has run in the new process (its interval is a minute): this is the saved state
    expect(now[M_DOWN]?.['srv_op_state']).toBe(DOWN);
    expect(now[M_UP]?.['srv_op_state']).toBe(UP);
    // the config's new weight wins over the saved one (haproxy keeps a saved weight only when the config's is unchanged)
    expect(now[M_UP]?.['srv_uweight']).toBe('5');
    const file = paths.haproxyServersState(LB);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(parseServersState(await readFile(file, 'utf8'))[M_DOWN]?.['srv_op_state']).toBe(DOWN);
    const reloadLog = (await logText()).slice(logBefore);
    expect(reloadLog).toMatch(/Loading success/);
    expect(reloadLog).not.toMatch(CANT_OPEN);
  });

  it('control: with a server-state-file the agent will not write, the same reload starts that member UP and haproxy cannot open the file', async () => {
    expect((await servers())[M_DOWN]?.['srv_op_state']).toBe(DOWN);
    const elsewhere = join(dir, 'elsewhere-state');
    const text = (await render(60, 3)).replace(`server-state-file ${paths.haproxyServersState(LB)}`, `server-state-file ${elsewhere}`);
    expect(text).toContain(`server-state-file ${elsewhere}`);
    const logBefore = (await logText()).length;
    expect((await uploadAndReload(text)).details).toBe(`haproxy daemon for ${LB} reloaded`);
    expect((await servers())[M_DOWN]?.['srv_op_state']).toBe(UP);
    expect(existsSync(elsewhere)).toBe(false);
    expect((await logText()).slice(logBefore)).toMatch(CANT_OPEN);
  });

  it('DELETE removes the state file with the load balancer', async () => {
    expect(existsSync(paths.haproxyServersState(LB))).toBe(true);
    await request(app).delete(`/1.0/listeners/${LB}`).expect(200);
    expect(existsSync(paths.haproxyServersState(LB))).toBe(false);
    expect(existsSync(paths.haproxyDir(LB))).toBe(false);
  });
});
