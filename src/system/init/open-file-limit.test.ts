/**
 * @module system/init/open-file-limit.test
 * The direct adapter's open-file limit wrapper, run with the real /bin/sh under a lowered hard
 * limit (lowering needs no privilege): the raise, its fallback, and the argv kept as words.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { withOpenFileLimit } from './open-file-limit.js';

const run = promisify(execFile);

/** Runs `argv` with a hard limit of 4096 (lowering is always allowed), as a host that allows little. */
async function underHardLimit(argv: string[]): Promise<string> {
  const [cmd = '', ...args] = argv;
  const { stdout } = await run('/bin/sh', ['-c', 'ulimit -n 4096 && exec "$@"', 'sh', cmd, ...args]);
  return stdout.trim();
}

const SHOW_LIMITS = ['/bin/sh', '-c', 'echo "$(ulimit -S -n) $(ulimit -H -n)"'];

describe('withOpenFileLimit (the direct adapter)', () => {
  it('leaves a daemon without a limit (keepalived) alone', () => {
    expect(withOpenFileLimit(['/usr/sbin/keepalived', '-n'], undefined)).toEqual(['/usr/sbin/keepalived', '-n']);
    expect(withOpenFileLimit([], 100)).toEqual([]);
  });

  it('starts the daemon with soft and hard limit set to the one asked for when the host allows it', async () => {
    expect(await underHardLimit(withOpenFileLimit(SHOW_LIMITS, 1000))).toBe('1000 1000');
  });

  it('falls back to the hard limit, and still starts the daemon, when the host refuses the raise', async () => {
    const [soft, hard] = (await underHardLimit(withOpenFileLimit(SHOW_LIMITS, 2_600_000))).split(' ');
    expect(soft).toBe(hard);
    // 2600000 only where fs.nr_open allows it and the test runs with CAP_SYS_RESOURCE
    expect(['4096', '2600000']).toContain(soft);
  });

  it('passes the daemon argv as words, never as shell text', async () => {
    const argv = withOpenFileLimit(['/bin/echo', '$(id -u)', 'a  b', ';', '"q"'], 1000);
    expect(await underHardLimit(argv)).toBe('$(id -u) a  b ; "q"');
    expect(argv.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(argv[2]).not.toContain('1000');
  });

  it('refuses a limit that is not a positive whole number', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => withOpenFileLimit(['/bin/true'], bad)).toThrow(/invalid open-file limit/);
  });
});
