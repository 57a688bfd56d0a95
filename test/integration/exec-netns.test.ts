/**
 * The process runner inside a network namespace, with the real `ip netns exec`, as root: a command
 * that is not installed reads as "could not start" (exitCode undefined) as it does without a
 * namespace, so fallbacks for a missing tool (masquerade without nft: services/network/masquerade.ts)
 * work inside the amphora namespace; a command that runs and fails keeps its exit code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { ExecaRunner, notFoundInNetns } from '../../src/system/exec.js';
import { addNetns, deleteNetns, uniqueName } from '../support/netns.js';
import { tierCanRun } from '../support/requirements.js';

const canRun = tierCanRun('integration: the process runner in a network namespace', { root: true, binaries: ['ip'] });

describe('notFoundInNetns', () => {
  it('knows ip netns exec’s line for a missing command, and only for that command', () => {
    expect(notFoundInNetns('nft', 1, 'exec of "nft" failed: No such file or directory\n')).toBe(true);
    expect(notFoundInNetns('iptables', 1, 'exec of "nft" failed: No such file or directory\n')).toBe(false);
    expect(notFoundInNetns('nft', 1, 'Error: Could not process rule: Operation not supported\n')).toBe(false);
    expect(notFoundInNetns('nft', 2, 'exec of "nft" failed: No such file or directory\n')).toBe(false);
  });
});

describe.skipIf(!canRun)('ExecaRunner with netns: real ip netns exec', () => {
  const ns = uniqueName('exn');
  const runner = new ExecaRunner(silentLogger(), 30_000);
  beforeAll(async () => addNetns(ns));
  afterAll(async () => deleteNetns(ns));

  it('a missing command could not start, as without a namespace', async () => {
    const inNs = await runner.run('no-such-command-amphora', ['x'], { netns: ns, allowFailure: true });
    const bare = await runner.run('no-such-command-amphora', ['x'], { allowFailure: true });
    expect(inNs.exitCode).toBeUndefined();
    expect(bare.exitCode).toBeUndefined();
    expect(inNs.output).toContain('no-such-command-amphora');
  });

  it('a command that runs and fails keeps its exit code', async () => {
    const r = await runner.run('sh', ['-c', 'echo "exec of \\"sh\\" failed: No such file or directory" >&2; exit 3'], { netns: ns, allowFailure: true });
    expect(r.exitCode).toBe(3);
  });
});
