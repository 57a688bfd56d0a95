/**
 * @module test/support/wait-for
 * `waitFor`: polls a condition every 50 ms until it holds, and fails with what it waited for
 * on timeout. It does not retry anything that fails by throwing.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `test` until it returns a value that is not undefined/false; fails with `what` (and `explain()`) on timeout. */
export async function waitFor<T>(what: string, test: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000, explain?: () => Promise<string> | string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await test();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${explain ? `\n${await explain()}` : ''}`);
    await sleep(50);
  }
}
