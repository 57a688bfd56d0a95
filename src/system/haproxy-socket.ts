/**
 * @module system/haproxy-socket
 * One command on a haproxy stats socket (haproxy's CLI in its non-interactive mode): connect to the
 * unix socket, send the command and a newline, read until haproxy closes the connection. No
 * shell and no `socat`: node:net only. The whole exchange has a deadline, so a haproxy that hangs
 * or a socket nobody serves cannot hold the caller (a reload waits on it). The answer is size
 * capped. Knows nothing about what the command means; callers judge the answer.
 */
import { createConnection } from 'node:net';
import { CommandFailed } from '../model/errors.js';

export interface HaproxySocketOptions {
  /** The deadline of the whole exchange: connect, send, read to the end. */
  readonly timeoutMs: number;
  /** Answers longer than this fail (default 16 MiB): haproxy's answers are small text. */
  readonly maxBytes?: number;
}

const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;

/** haproxy's CLI runs each `;`-separated part and ends a command at a newline: one command, one line. */
const COMMAND = /^[A-Za-z][A-Za-z0-9 _./-]*$/;

/**
 * Sends `command` to the haproxy socket at `socketPath` and returns its whole answer. Rejects
 * with `CommandFailed` (the socket and command as argv, the reason as output) when the socket
 * cannot be reached, the deadline passes or the answer is too long.
 */
export function haproxySocketCommand(socketPath: string, command: string, options: HaproxySocketOptions): Promise<string> {
  if (!COMMAND.test(command)) return Promise.reject(new CommandFailed([socketPath, command], undefined, 'not a single haproxy CLI command'));
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const socket = createConnection({ path: socketPath });
    const finish = (err: Error | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err === null) resolve(Buffer.concat(chunks).toString('utf8'));
      else reject(new CommandFailed([socketPath, command], undefined, err.message, `haproxy socket command failed: ${command}`, err));
    };
    const timer = setTimeout(() => finish(new Error(`no complete answer within ${options.timeoutMs} ms`)), options.timeoutMs);
    socket.on('connect', () => socket.write(`${command}\n`));
    socket.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) return finish(new Error(`answer longer than ${maxBytes} bytes`));
      chunks.push(chunk);
    });
    // haproxy closes the connection after answering a command sent without `prompt`
    socket.on('end', () => finish(null));
    socket.on('error', (err) => finish(err));
  });
}
