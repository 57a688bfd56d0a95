/**
 * @module test/support/flood-child
 * Drives `connection-flood.mjs` (a child process holding idle connections and half-finished TLS
 * handshakes against a port, reopening what the server closes) and reads its counts; plus the
 * open file descriptors and resident memory of a process, from /proc. The caller stops the flood.
 */
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Spawned } from './spawned.js';

const FLOOD = fileURLToPath(new URL('./connection-flood.mjs', import.meta.url));

export interface FloodCounts {
  /** Connections the flood holds now (TCP connected, not yet closed). */
  readonly open: number;
  readonly opened: number;
  /** Connections the server closed (evicted, timed out): each was reopened. */
  readonly closedByServer: number;
  readonly refused: number;
}

export class Flood {
  private constructor(readonly spawned: Spawned) {}

  /** Starts `idle` connections that send nothing and `half` that send a ClientHello and stall, on 127.0.0.1:port. */
  static start(port: number, idle: number, half: number): Flood {
    const child = spawn(process.execPath, [FLOOD, '127.0.0.1', String(port), String(idle), String(half)], { stdio: ['pipe', 'pipe', 'pipe'] });
    return new Flood(new Spawned(child));
  }

  /** The latest counts the flood printed (zeros before the first). */
  get counts(): FloodCounts {
    const lines = this.spawned.stdout.trim().split('\n').filter((l) => l.startsWith('{'));
    const last = lines.at(-1);
    return last === undefined ? { open: 0, opened: 0, closedByServer: 0, refused: 0 } : (JSON.parse(last) as FloodCounts);
  }

  waitFor(what: string, test: (c: FloodCounts) => boolean, timeoutMs = 120_000): Promise<FloodCounts> {
    return this.spawned.waitFor(what, () => test(this.counts) && this.counts, timeoutMs);
  }

  /** Closes its stdin: the flood closes every connection, prints its last counts and exits. */
  async stop(): Promise<FloodCounts> {
    this.spawned.child.stdin?.end();
    const timer = setTimeout(() => this.spawned.running && this.spawned.child.kill('SIGKILL'), 30_000);
    await this.spawned.exited;
    clearTimeout(timer);
    return this.counts;
  }
}

/** Open file descriptors and resident memory (MiB) of a process. */
export async function processFigures(pid: number): Promise<{ fds: number; rssMiB: number }> {
  const fds = (await readdir(`/proc/${pid}/fd`)).length;
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? NaN);
  return { fds, rssMiB: Math.round(kb / 1024) };
}
