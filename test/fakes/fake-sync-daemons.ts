/**
 * @module test/fakes/fake-sync-daemons
 * The IPVS sync daemons of one namespace as the kernel keeps them, answered through a FakeRunner
 * the way ipvsadm answered in the VM (test/e2e/vm/probes/ipvs-sync.sh): master and backup may run
 * together, a second start of one is "Daemon has already run" (exit 255), a stop without one "No
 * daemon is running" (exit 255), `-L --daemon` one line per running daemon.
 */
import type { FakeRunner } from './fake-runner.js';

/** Scripts `ipvsadm` (the default ipvsadm_cmd) on `runner`; returns the running daemons by role. */
export function fakeSyncDaemons(runner: FakeRunner, ipvsadm = '/usr/sbin/ipvsadm'): Map<string, string> {
  const daemons = new Map<string, string>();
  runner.on([ipvsadm], (argv) => {
    const [, op, role] = argv;
    if (op === '-L' && argv[2] === '--daemon') return { stdout: [...daemons].map(([r, d]) => `${r} sync daemon (${d}, port=8848, ttl=1)\n`).join('') };
    if (op === '--start-daemon' && role !== undefined) {
      if (daemons.has(role)) return { exitCode: 255, stderr: 'Daemon has already run\n' };
      const at = (flag: string) => argv[argv.indexOf(flag) + 1];
      daemons.set(role, `mcast=${at('--mcast-interface')}, syncid=${at('--syncid')}, maxlen=1472, group=${at('--mcast-group')}`);
      return {};
    }
    if (op === '--stop-daemon' && role !== undefined) return daemons.delete(role) ? {} : { exitCode: 255, stderr: 'No daemon is running\n' };
    return { exitCode: 255, stderr: `fake-sync-daemons: not modelled: ${argv.slice(1).join(' ')}\n` };
  });
  return daemons;
}
