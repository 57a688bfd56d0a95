/**
 * Issue 14, item 3: `PUT /1.0/config` with a `bind_host` that is not on the host, a `bind_port`
 * another process holds, or port 0 was accepted "for the next restart", where the agent then
 * could not listen (or listened where the controller cannot find it). Now a new pair is tried
 * with a real bind first: 400 before the file is written, the agent serving on. Another process
 * is a real `nc -l` (IPv4 and IPv6 loopback). The agent's own port under another spelling of its
 * address (`0.0.0.0`, `::`, where the agent's own socket is in the way) is still taken, and the
 * agent starts again from the file that names it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, portIsFree, tcpConnects } from '../../support/agent-fixture.js';
import { tierCanRun } from '../../support/requirements.js';
import { waitFor } from '../../support/wait-for.js';
import { canRunTlsFaults, expectRefusedBeforeWriting, TlsAgent } from './config-faults-kit.js';

const canRun = canRunTlsFaults('f03') && tierCanRun('reliability f03', { binaries: ['nc'] });

/** The error code of a bind to host:port from this process, or null when it binds. */
function bindError(host: string, port = 0): Promise<string | null> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    s.listen({ host, port }, () => s.close(() => resolve(null)));
  });
}

describe.skipIf(!canRun)('f03: a bind_host/bind_port the agent could not listen on is refused before writing', () => {
  let t: TlsAgent;
  const listeners: ChildProcess[] = [];
  /** A port another process (nc) listens on, on 127.0.0.1 and on ::1. */
  let taken4: number;
  let taken6: number;

  /**
   * `nc -l -k` on host:port, a process of its own; resolves once it accepts a connection. The
   * wait connects rather than binding: a bind probe holds the port for a moment, and an nc that
   * started in that moment failed its own bind and exited, leaving the port free (seen at host
   * load 6: the wait timed out and the file's hook failed).
   */
  async function otherProcessListens(family: '-4' | '-6', host: string, port: number): Promise<void> {
    const nc = spawn('nc', ['-l', '-k', family, host, String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
    listeners.push(nc);
    let stderr = '';
    nc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    await waitFor(`nc to listen on [${host}]:${port}`, async () => {
      if (nc.exitCode !== null) throw new Error(`nc -l ${host} ${port} exited ${nc.exitCode}: ${stderr.trim()}`);
      return tcpConnects(port, host);
    });
  }

  beforeAll(async () => {
    t = await TlsAgent.start('amphora-f03-');
    taken4 = await freePort();
    await otherProcessListens('-4', '127.0.0.1', taken4);
    // ::1 on the agent's own port: only the agent's 127.0.0.1 socket is there, and nc may take it
    taken6 = t.agent?.port ?? 0;
    await otherProcessListens('-6', '::1', taken6);
  });

  afterAll(async () => {
    for (const nc of listeners) nc.kill();
    await t?.stop();
  });

  const conf = (host: string, port: number) => t.root.render({ haproxy_amphora: { bind_host: host, bind_port: String(port) } });

  it('refuses an IPv4 bind_host that is not on the host', async () => {
    expect(await bindError('198.51.100.7')).toBe('EADDRNOTAVAIL');
    await expectRefusedBeforeWriting(t, '/1.0/config', conf('198.51.100.7', 9443), t.root.configFile, /198\.51\.100\.7.*not on this host/);
  });

  it('refuses an IPv6 bind_host that is not on the host', async () => {
    expect(await bindError('2001:db8::7')).not.toBeNull();
    await expectRefusedBeforeWriting(t, '/1.0/config', conf('2001:db8::7', 9443), t.root.configFile, /2001:db8::7/);
  });

  it('refuses a bind_port another process listens on', async () => {
    await expectRefusedBeforeWriting(t, '/1.0/config', conf('127.0.0.1', taken4), t.root.configFile, /in use by another process/);
  });

  it('refuses bind_host :: on the agent\'s own port when another process holds it on ::1', async () => {
    await expectRefusedBeforeWriting(t, '/1.0/config', conf('::', taken6), t.root.configFile, /in use by another process/);
  });

  it('refuses bind_port 0', async () => {
    await expectRefusedBeforeWriting(t, '/1.0/config', conf('127.0.0.1', 0).replace(/bind_host = .*\n/, 'bind_host = 127.0.0.2\n'), t.root.configFile, /port 0/);
  });

  it('takes a free port (pending the restart) and the address the agent started with', async () => {
    const free = await freePort();
    const moved = await t.put('/1.0/config', conf('127.0.0.1', free));
    expect(moved.status, moved.body).toBe(202);
    expect(moved.json()).toEqual({ message: 'OK', details: 'takes effect at the next restart: haproxy_amphora.bind_port' });
    // bind_port = 0 as the agent was started: nothing changes, nothing is tried
    expect((await t.put('/1.0/config', t.root.render())).status).toBe(202);
  });

  it('takes 0.0.0.0 on the agent\'s own port, where only its own socket is in the way, and starts again on it', async () => {
    for (const nc of listeners.splice(0)) nc.kill();
    await waitFor(`nc to leave [::1]:${taken6}`, () => portIsFree(taken6, '::1'));
    const own = t.agent?.port ?? 0;
    const res = await t.put('/1.0/config', conf('0.0.0.0', own));
    expect(res.status, res.body).toBe(202);
    await t.restartFromFiles();
    expect(t.agent?.port).toBe(own);
  });
});
