/**
 * kill -9 during every kind of write the real agent does under the `direct` adapter: its own
 * config (PUT /1.0/config), its certificate (PUT /1.0/certificate), an LVS listener config (PUT
 * …/udp_listener, which also writes the state file), a haproxy config (PUT …/haproxy, state file
 * too) and an API 2.0 listener model (PUT /2.0/listeners/X: rendered config and state file).
 * Each round sends a request that changes the file, kills the agent at a point spread over the
 * request's duration, and checks: the file is byte for byte the old or the new content (never
 * torn, never lost), the state file is whole JSON, the agent starts again from its files, and
 * no temp file of an interrupted write is left once it has started (cleanup at start: item 10(b)
 * of issue 14, another change; until it lands, that one assertion fails here).
 *
 * Unit files: under `direct` the agent writes none (systemd, sysvinit and upstart would run the
 * host's init system); their writes go through the same writeFileAtomic (src/system/files.ts).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GEN_CERTS } from '../support/agent-paths.js';
import { merge, udpListener } from '../support/listener-fixtures.js';
import { RENDER_SCRIPT, renderLvs } from '../support/octavia-templaters.js';
import { tierCanRun } from '../support/requirements.js';
import { issueServerCert } from '../support/test-pki.js';
import { recordFigures } from './support/figures.js';
import { startSuiteAgent, type SuiteAgent } from './support/suite-agent.js';

const canRun = tierCanRun('reliability: kill -9 during writes', {
  root: true,
  binaries: ['keepalived', 'haproxy', 'ip', 'openssl'],
  python: 'octavia',
  files: [GEN_CERTS, RENDER_SCRIPT],
});

const ROUNDS = Number(process.env['RELIABILITY_KILL_ROUNDS'] ?? 4);
const LISTENER = 'eeeeeeee-0000-4000-8000-0000000000c1';
const LB = 'aaaaaaaa-0000-4000-8000-0000000000c2';
const MODEL = 'eeeeeeee-0000-4000-8000-0000000000c3';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One kind of write: the request that makes version `n`, and the file it must leave old or new. */
interface WriteKind {
  readonly name: string;
  readonly file: () => string;
  readonly request: (n: number) => { method: string; path: string; body: string };
}

/** Temp files of interrupted atomic writes (`.<name>.<hex>.tmp`) anywhere under `dir`. */
function tempFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (/^\..+\.[0-9a-f]+\.tmp$/.test(n)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

describe.skipIf(!canRun)('kill -9 during every kind of write: each file old or new, the agent starts again', () => {
  let agent: SuiteAgent;
  let kinds: WriteKind[];
  const figures = { kills: 0, torn: 0, lost: 0, restarts_failed: 0, temp_files_left: 0, state_unreadable: 0 };
  const leftovers: string[] = [];

  beforeAll(async () => {
    agent = await startSuiteAgent({ tag: 'kill' });
    const amp = agent.root.pki.amphoraId;
    const base = agent.root.at('var/lib/octavia');
    const lvs = await renderLvs({ listener_id: LISTENER, listener_enabled: false }, agent.ns);
    const certs = [(await issueServerCert(agent.root.pki, agent.root.at('issued'))).pem, (await issueServerCert(agent.root.pki, agent.root.at('issued'))).pem];
    const config = agent.root.render();
    const haproxy = (n: number) =>
      `global\n    maxconn ${100 + n}\n\ndefaults\n    mode tcp\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n\nlisten l\n    bind 127.0.0.1:${18200 + (n % 2)}\n    server s 127.0.0.1:18300\n`;
    kinds = [
      { name: 'agent config', file: () => agent.root.configFile, request: (n) => ({ method: 'PUT', path: '/1.0/config', body: config.replace(/^debug = .*$/m, `debug = ${n % 2 ? 'True' : 'False'}`) }) },
      { name: 'agent certificate', file: () => agent.root.certFile, request: (n) => ({ method: 'PUT', path: '/1.0/certificate', body: certs[n % 2] as string }) },
      { name: 'LVS listener config', file: () => join(base, 'lvs', `octavia-keepalivedlvs-${LISTENER}.conf`), request: (n) => ({ method: 'PUT', path: `/1.0/listeners/${amp}/${LISTENER}/udp_listener`, body: `${lvs}\n# version ${n}\n` }) },
      { name: 'haproxy config', file: () => join(base, LB, 'haproxy.cfg'), request: (n) => ({ method: 'PUT', path: `/1.0/loadbalancer/${amp}/${LB}/haproxy`, body: haproxy(n) }) },
      { name: 'API 2.0 listener model', file: () => join(base, 'amphora-agent-state.json'), request: (n) => ({ method: 'PUT', path: `/2.0/listeners/${MODEL}`, body: JSON.stringify(merge(udpListener(), { admin_state_up: false, connection_limit: 1000 + n })) }) },
    ];
  });

  afterAll(async () => {
    recordFigures('kill-during-write', import.meta.url, { rounds_per_kind: ROUNDS, kinds: kinds?.length ?? 0, ...figures });
    await agent?.dispose();
  });

  const stateIsWhole = async () => {
    const f = agent.root.at('var/lib/octavia/amphora-agent-state.json');
    if (!existsSync(f)) return true;
    try {
      JSON.parse(await readFile(f, 'utf8'));
      return true;
    } catch {
      return false;
    }
  };

  it(`leaves each file old or new through ${ROUNDS} kills per kind of write, and the agent always starts again`, async () => {
    const problems: string[] = [];
    for (const kind of kinds) {
      // one whole request first: the file exists (the "old" of round 1) and we learn how long a write takes
      const t = Date.now();
      const first = await agent.request(kind.request(0).method, kind.request(0).path, kind.request(0).body);
      expect(first.status, `${kind.name}: ${first.body}`).toBeLessThan(300);
      const duration = Math.max(20, Date.now() - t);
      for (let n = 1; n <= ROUNDS; n++) {
        const old = await readFile(kind.file());
        const r = kind.request(n);
        const sent = agent.request(r.method, r.path, r.body).catch(() => undefined);
        // kill points spread from the request's start to past its usual end
        await sleep(Math.round((duration * 1.5 * n) / ROUNDS));
        await agent.kill9();
        figures.kills++;
        await sent;
        const now = existsSync(kind.file()) ? await readFile(kind.file()) : undefined;
        if (now === undefined) (figures.lost++, problems.push(`${kind.name} round ${n}: ${kind.file()} is gone`));
        else if (!now.equals(old) && !(kind.name === 'API 2.0 listener model' ? await stateIsWhole() : now.equals(Buffer.from(r.body)))) {
          figures.torn++;
          problems.push(`${kind.name} round ${n}: ${kind.file()} is neither the old nor the new content (${now.length} bytes)`);
        }
        if (!(await stateIsWhole())) (figures.state_unreadable++, problems.push(`${kind.name} round ${n}: the state file is not whole JSON`));
        try {
          await agent.start();
        } catch (err) {
          figures.restarts_failed++;
          problems.push(`${kind.name} round ${n}: the agent did not start again: ${(err as Error).message.slice(0, 1500)}`);
          return expect(problems).toEqual([]);
        }
        const left = tempFiles(agent.root.dir);
        figures.temp_files_left += left.length;
        for (const f of left) if (!leftovers.includes(f)) leftovers.push(f);
      }
    }
    expect(problems).toEqual([]);
  });

  it('cleans the temp files of interrupted writes when it starts (issue 14 item 10(b))', () => {
    // the kill points above stop some writes between open and rename: their temp copies (the
    // certificate's is a full copy of the private key) must be gone once the agent has started
    expect(figures.kills).toBeGreaterThan(0);
    expect(leftovers).toEqual([]);
  });
});
