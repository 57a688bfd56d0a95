/**
 * @module test/support/in-home
 * A ProcessRunner that runs, inside namespace `home`, every command the agent would run in its
 * own namespace (no `netns` option); commands for a named namespace are left as they are. The
 * integration tests of plug and boot make `home` the agent's "default namespace", so that no
 * NIC of the host is ever looked at or moved.
 */
import type { ProcessRunner, RunOptions } from '../../src/system/exec.js';

export function inHome(inner: ProcessRunner, home: string): ProcessRunner {
  return {
    run: (cmd, args, options: RunOptions = {}) => inner.run(cmd, args, { ...options, netns: options.netns ?? home }),
    spawnDetached: (cmd, args, options) => inner.spawnDetached(cmd, args, options),
  };
}
