/**
 * @module test/integration/init-system.case.test
 * The InitSystem cases (test/support/init-system-cases.ts) for every real adapter: each really
 * starts, reloads and stops keepalived and haproxy (and a signal probe) in a network namespace of
 * its own, through its init system: `direct` supervises them itself, `sysvinit` runs the rendered
 * LSB scripts directly, `systemd` and `upstart` go through systemctl and initctl.
 *
 * This file is the integration tier because it needs root (namespaces) and the daemons; the tier
 * skips with its reason without them, and fails under CI=true. An adapter whose init system is
 * not this machine's (systemd when PID 1 is not systemd, upstart wherever initctl is not
 * upstart's; Debian ships none) is a property of the machine, not of an install: it is skipped
 * with its reason, also under CI. The VM tier (test/e2e) boots systemd and covers the systemd
 * adapter for real.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import type { InitKind } from '../../src/system/init/types.js';
import { initSystemCases } from '../support/init-system-cases.js';
import { realInitHarness } from '../support/real-init-harness.js';
import { tierCanRun } from '../support/requirements.js';

const canRun = tierCanRun('integration: InitSystem cases with real daemons', {
  root: true,
  binaries: ['keepalived', 'haproxy', 'ip', 'setsid', 'flock', 'sysctl'],
});

function pid1(): string {
  try {
    return readFileSync('/proc/1/comm', 'utf8').trim();
  } catch (err) {
    return `unreadable (${(err as Error).message})`;
  }
}

/** Why this machine's init system is not `kind`'s, or undefined when it is. */
function absentInit(kind: InitKind): string | undefined {
  if (kind === 'systemd') {
    if (pid1() === 'systemd' && existsSync('/run/systemd/system')) return undefined;
    return `PID 1 is '${pid1()}', not systemd; the VM tier (test/e2e) boots systemd and covers this adapter for real`;
  }
  if (kind === 'upstart') {
    const r = spawnSync('initctl', ['--version'], { encoding: 'utf8' });
    if (r.status === 0 && /upstart/.test(r.stdout)) return undefined;
    return `no upstart here (initctl ${r.error ? 'is missing' : 'is not upstart’s'}; Debian ships no upstart)`;
  }
  return undefined;
}

const ADAPTERS: readonly { kind: InitKind; unitFiles: boolean }[] = [
  { kind: 'direct', unitFiles: false },
  { kind: 'sysvinit', unitFiles: true },
  { kind: 'systemd', unitFiles: true },
  { kind: 'upstart', unitFiles: true },
];

/** `INIT_CASES_ONLY=systemd` (a comma list): run only these adapters, e.g. in the VM (test/e2e/vm/probes/init-cases.sh). */
const only = (process.env['INIT_CASES_ONLY'] ?? '').split(',').filter(Boolean);

for (const { kind, unitFiles } of ADAPTERS.filter((a) => only.length === 0 || only.includes(a.kind))) {
  initSystemCases({
    name: `${kind} adapter, real daemons`,
    // the machine's init system first: that reason holds even as root
    skip: absentInit(kind) ?? (canRun ? undefined : 'the integration tier cannot run here (see SKIP above)'),
    unitFiles,
    lifecycle: true,
    signalProbe: true,
    setup: () => realInitHarness(kind),
  });
}
