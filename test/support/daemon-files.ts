/**
 * @module test/support/daemon-files
 * What the InitSystem cases (test/support/init-system-cases.ts) read of a daemon from outside
 * the adapter: its log (its size, and what it gained past an offset), its pid file, and
 * `eventually`, a poller that shows the log's tail when it times out. Read-only: it never
 * signals or starts anything.
 */
import { existsSync } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/** Polls `test` until it gives a value; on timeout the error says what it waited for and shows `log`'s tail. */
export async function eventually<T>(what: string, test: () => Promise<T | false | undefined>, log?: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await test();
    if (value !== false && value !== undefined) return value;
    if (Date.now() > deadline) {
      const tail = log === undefined ? '' : `\n--- ${log}:\n${(await logSince(log, 0)).split('\n').slice(-15).join('\n')}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${tail}`);
    }
    await sleep(25);
  }
}

export async function logSize(file: string): Promise<number> {
  return existsSync(file) ? (await stat(file)).size : 0;
}

/** What a log gained past byte `offset`. */
export async function logSince(file: string, offset: number): Promise<string> {
  if (!existsSync(file)) return '';
  const handle = await open(file, 'r');
  try {
    return (await handle.readFile()).subarray(offset).toString('utf8');
  } finally {
    await handle.close();
  }
}

export async function readPid(file: string): Promise<number | undefined> {
  if (!existsSync(file)) return undefined;
  const pid = Number((await readFile(file, 'utf8')).trim());
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}
