/**
 * The UDP-CONNECT member check (`udp_check.sh`, the script controller-rendered LVS configs run as
 * MISC_CHECK), run for real with bash against loopback sockets this test owns: a member that
 * answers and one that listens without answering are alive (exit 0), a port nothing listens on
 * is dead (exit 1, from the ICMP port unreachable), and the script wants an address and a port.
 * It runs as one process (no sh -> bash -> sleep chain: keepalived's misc_timeout counts every
 * exec on a starved amphora); the wait is a read on a second socket, checked here by its length.
 */
import { execFile } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderUdpCheck } from '../../src/render/scripts.js';
import { tierCanRun } from '../support/requirements.js';

const canRun = tierCanRun('integration: the UDP-CONNECT check script', { binaries: ['bash'] });

function runCheck(script: string, ...args: string[]): Promise<{ code: number; ms: number; stderr: string }> {
  const t = performance.now();
  return new Promise((res) => {
    execFile(script, args, { timeout: 30_000 }, (err, _stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      res({ code, ms: performance.now() - t, stderr });
    });
  });
}

async function bound(onMessage?: (s: Socket, msg: Buffer, port: number, address: string) => void): Promise<Socket> {
  const s = createSocket('udp4');
  if (onMessage) s.on('message', (msg, rinfo) => onMessage(s, msg, rinfo.port, rinfo.address));
  await new Promise<void>((res) => s.bind(0, '127.0.0.1', res));
  return s;
}

describe.skipIf(!canRun)('udp_check.sh with real bash on loopback', () => {
  let dir: string;
  let script: string;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'udp-check-'));
    script = join(dir, 'udp_check.sh');
    await writeFile(script, renderUdpCheck(), { mode: 0o755 });
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a member that answers is alive, and got both probes', async () => {
    const got: string[] = [];
    const echo = await bound((s, msg, port, address) => {
      got.push(msg.toString());
      s.send(Buffer.from('echo'), port, address);
    });
    sockets.push(echo);
    const r = await runCheck(script, '127.0.0.1', String(echo.address().port));
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(got).toEqual(['X', 'X']);
    // the wait between the probes is real (a read with a time limit, not skipped by the reply)
    expect(r.ms).toBeGreaterThanOrEqual(450);
  });

  it('a member that listens without answering is alive', async () => {
    const silent = await bound();
    sockets.push(silent);
    expect((await runCheck(script, '127.0.0.1', String(silent.address().port))).code).toBe(0);
  });

  it('a port nothing listens on is dead (ICMP port unreachable fails the second probe)', async () => {
    const gone = await bound();
    const port = gone.address().port;
    await new Promise<void>((res) => gone.close(() => res()));
    const r = await runCheck(script, '127.0.0.1', String(port));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Connection refused/);
  });

  it('wants an address and a port', async () => {
    expect((await runCheck(script, '127.0.0.1')).code).toBe(2);
  });
});
