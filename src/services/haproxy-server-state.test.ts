/**
 * The server-state save before a haproxy reload (services/haproxy-server-state.ts) under a
 * temporary root, with a real unix-socket server at the load balancer's stats socket path
 * playing haproxy's CLI: which uploaded configs get it, the file and its mode, and that every
 * failure is only logged (and leaves no stale file). With the real haproxy:
 * test/integration/haproxy-server-state.test.ts.
 */
import { mkdtemp, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import type { Uuid } from '../model/uuid.js';
import { createPaths, type Paths } from '../system/paths.js';
import { prepareServerState, readsServerState, removeServerState, saveServerState, type ServerStateDeps } from './haproxy-server-state.js';

const LB = 'ffffffff-0000-0000-0000-0000000000c1' as Uuid;
const STATE = '1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state\n3 pool 1 m1 127.0.0.1 0 0\n\n';

let root: string | undefined;
const servers: Server[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  if (root !== undefined) await rm(root, { recursive: true, force: true });
  root = undefined;
});

/** Deps under a fresh root, with a logger whose warnings the test reads. */
async function setup(): Promise<{ deps: ServerStateDeps; paths: Paths; warnings: () => Record<string, unknown>[] }> {
  root = await mkdtemp(join(tmpdir(), 'srvstate-'));
  const config = parseConfig([{ path: '/x.conf', text: `[haproxy_amphora]\nbase_path = ${root}/lib\n` }]).config;
  const paths = createPaths(config);
  await mkdir(paths.haproxyDir(LB), { recursive: true });
  const lines: string[] = [];
  const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(chunk.toString('utf8')), done()) });
  const log = pino({ level: 'warn' }, sink);
  const warnings = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { deps: { paths, log, timeoutMs: () => 30_000 }, paths, warnings };
}

/** A CLI at the load balancer's stats socket that answers every command with `answer`. */
async function haproxyCli(paths: Paths, answer: string): Promise<string[]> {
  const commands: string[] = [];
  const server = createServer((socket) => {
    socket.on('data', (d) => {
      commands.push(d.toString('utf8'));
      socket.end(answer);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(paths.haproxyStatsSocket(LB), resolve));
  return commands;
}

describe('readsServerState', () => {
  it("is true for a config naming the load balancer's servers-state file, false without the directive; neither is logged", async () => {
    const { deps, paths, warnings } = await setup();
    expect(readsServerState(deps, LB, `global\n    server-state-file ${paths.haproxyServersState(LB)}\n`)).toBe(true);
    expect(readsServerState(deps, LB, `global\n    server-state-base ${paths.haproxyDir(LB)}\n    server-state-file servers-state\n`)).toBe(true);
    expect(readsServerState(deps, LB, 'global\n    daemon\n')).toBe(false);
    expect(warnings()).toEqual([]);
  });

  it('is false, with a warning naming the file, for any other path: outside the directory, another file in it, relative', async () => {
    const { deps, paths, warnings } = await setup();
    const others = ['/etc/passwd', paths.haproxyConfig(LB), `${paths.haproxyDir(LB)}/../${LB}.sock`, 'servers-state'];
    for (const f of others) expect(readsServerState(deps, LB, `global\n    server-state-file ${f}\n`), f).toBe(false);
    expect(warnings().map((w) => w['serverStateFile'])).toEqual(['/etc/passwd', paths.haproxyConfig(LB), paths.haproxyStatsSocket(LB), 'servers-state']);
    expect(warnings().every((w) => w['expected'] === paths.haproxyServersState(LB))).toBe(true);
  });
});

describe('saveServerState', () => {
  it("writes haproxy's answer to `show servers state` to the servers-state file, mode 0600, atomically", async () => {
    const { deps, paths, warnings } = await setup();
    const commands = await haproxyCli(paths, STATE);
    await saveServerState(deps, LB);
    expect(commands).toEqual(['show servers state\n']);
    expect(await readFile(paths.haproxyServersState(LB), 'utf8')).toBe(STATE);
    expect((await stat(paths.haproxyServersState(LB))).mode & 0o777).toBe(0o600);
    expect(warnings()).toEqual([]);
  });

  it('only logs when haproxy cannot be reached, and removes the states an earlier reload saved', async () => {
    const { deps, paths, warnings } = await setup();
    await writeFile(paths.haproxyServersState(LB), STATE);
    await expect(saveServerState(deps, LB)).resolves.toBeUndefined();
    await expect(stat(paths.haproxyServersState(LB))).rejects.toThrow(/ENOENT/);
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]?.['msg']).toMatch(/could not save the server states/);
  });

  it('writes nothing that is not a state file (a CLI refusal, say)', async () => {
    const { deps, paths, warnings } = await setup();
    await haproxyCli(paths, 'Permission denied\n\n');
    await saveServerState(deps, LB);
    await expect(stat(paths.haproxyServersState(LB))).rejects.toThrow(/ENOENT/);
    expect(JSON.stringify(warnings()[0]?.['err'])).toMatch(/Permission denied/);
  });
});

describe('prepareServerState', () => {
  it('before a start: a file without states (mode 0600), over what an earlier reload saved; nothing is asked of haproxy', async () => {
    const { deps, paths } = await setup();
    await writeFile(paths.haproxyServersState(LB), STATE);
    const commands = await haproxyCli(paths, STATE);
    await prepareServerState(deps, LB, 'start');
    expect(await readFile(paths.haproxyServersState(LB), 'utf8')).toBe('1\n');
    expect((await stat(paths.haproxyServersState(LB))).mode & 0o777).toBe(0o600);
    expect(commands).toEqual([]);
  });

  it("before a reload: the running haproxy's states", async () => {
    const { deps, paths } = await setup();
    await haproxyCli(paths, STATE);
    await prepareServerState(deps, LB, 'reload');
    expect(await readFile(paths.haproxyServersState(LB), 'utf8')).toBe(STATE);
  });
});

describe('removeServerState', () => {
  it('removes the file; a missing one is fine', async () => {
    const { paths } = await setup();
    await writeFile(paths.haproxyServersState(LB), STATE);
    await removeServerState(paths, LB);
    await removeServerState(paths, LB);
    await expect(stat(paths.haproxyServersState(LB))).rejects.toThrow(/ENOENT/);
  });
});
