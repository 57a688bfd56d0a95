/**
 * @module system/net/listen-check
 * Whether the agent could listen on a new `bind_host`/`bind_port` at its next start, asked
 * before PUT /1.0/config writes a file naming them (the agent that cannot listen is lost to the
 * controller). The proof is a real bind, now: an address not on this host (EADDRNOTAVAIL), a
 * port another process holds (EADDRINUSE) or a port the agent may not bind (EACCES) is a problem;
 * port 0 is one too, since the kernel would choose another port at every start. The address the
 * agent listens on now is not checked (it is the one the agent already holds). When a new
 * address shares the agent's own port and the bind fails only because of the agent's own socket
 * (a wildcard beside a specific address, `::` beside `0.0.0.0`), `<proc>/self/net/tcp{,6}` and
 * `<proc>/self/fd` tell whose listening sockets hold that port: only the agent's is no problem.
 */
import { readdir, readFile, readlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { normalizeIp } from '../../model/ip-address.js';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** TCP_LISTEN in /proc/net/tcp's `st` column. */
const LISTEN = '0A';

function tryListen(host: string, port: number): Promise<NodeJS.ErrnoException | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err));
    server.listen({ host, port }, () => server.close(() => resolve(null)));
  });
}

/** Inodes of the TCP sockets in LISTEN on `port` in this process's namespace (tcp and tcp6). */
async function listeningInodes(procDir: string, port: number): Promise<string[]> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes: string[] = [];
  for (const table of ['tcp', 'tcp6']) {
    const text = await readFile(join(procDir, 'self', 'net', table), 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && f[3] === LISTEN && f[1]?.endsWith(`:${hexPort}`)) inodes.push(f[9] as string);
    }
  }
  return inodes;
}

/** Inodes of the sockets this process holds open. */
async function ownSocketInodes(procDir: string): Promise<Set<string>> {
  const dir = join(procDir, 'self', 'fd');
  const links = await Promise.all((await readdir(dir)).map((fd) => readlink(join(dir, fd)).catch(() => '')));
  return new Set(links.map((l) => /^socket:\[(\d+)\]$/.exec(l)?.[1]).filter((i): i is string => i !== undefined));
}

function describe(err: NodeJS.ErrnoException): string {
  const why: Record<string, string> = {
    EADDRNOTAVAIL: 'the address is not on this host',
    EADDRINUSE: 'the port is in use by another process',
    EACCES: 'the agent may not bind this port',
  };
  return why[err.code ?? ''] ?? `${err.code ?? 'error'}: ${err.message}`;
}

/** The same address and port, whatever the spelling of the address. */
export function sameListenAddress(a: ListenAddress, b: ListenAddress): boolean {
  return a.port === b.port && normalizeIp(a.host) === normalizeIp(b.host);
}

/**
 * Returns why the agent could not listen on `next` at its next start, or null when it could.
 * `own`: the address the agent listens on now (bind_host as configured, the real port).
 */
export async function listenProblem(next: ListenAddress, own: ListenAddress, procDir: string): Promise<string | null> {
  if (next.port === 0) return 'port 0 lets the kernel choose a different port at every start: the controller could not find the agent';
  if (sameListenAddress(next, own)) return null;
  const err = await tryListen(next.host, next.port);
  if (err === null) return null;
  if (err.code !== 'EADDRINUSE' || next.port !== own.port) return describe(err);
  // the agent's own socket may be what is in the way: then only the address needs proving
  const ours = await ownSocketInodes(procDir);
  const others = (await listeningInodes(procDir, next.port)).filter((inode) => !ours.has(inode));
  if (others.length > 0) return describe(err);
  const addressErr = await tryListen(next.host, 0);
  return addressErr === null ? null : describe(addressErr);
}
