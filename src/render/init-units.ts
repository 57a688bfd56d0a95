/**
 * @module render/init-units
 * View builders and renderers for the init units the agent installs: one per daemon
 * (a keepalived per LVS listener, the VRRP keepalived, a haproxy per load balancer) and one for
 * the network namespace, for systemd, sysvinit and upstart. Every daemon runs in the foreground
 * under its supervisor (keepalived -n, haproxy -W -db) with its console output appended to a log
 * file, so that the agent can show the tail of it when a start fails. Pure.
 *
 * haproxy's units raise its open-file limit (`DaemonUnitSpec.nofile`) best effort in every init
 * system: systemd's LimitNOFILE (systemd sets the closest limit it may when the host refuses
 * this one), and a `ulimit -n` in the sysvinit script and the upstart job that falls back to the
 * hard limit, so a host that allows less still starts haproxy, which then says what it lacks.
 *
 * Daemons differ in how they reload (`DaemonUnitSpec.reload`, system/init/types.ts): every unit
 * template sends the daemon's own signal. The specs are the init seam's types; this module only
 * turns them into text (`unitRenderer` is what main hands to the adapters).
 */
import { configToken } from '../model/config-token.js';
import { UnsafeValue } from '../model/errors.js';
import { RELOAD_SIGNALS, reloadOf, type DaemonUnitSpec, type NetnsUnitSpec, type ReloadSignal, type UnitInitKind, type UnitRenderer } from '../system/init/types.js';
import { render } from './environment.js';

const FILE: Record<UnitInitKind, { daemon: string; netns: string }> = {
  systemd: { daemon: 'init/systemd/daemon.service.njk', netns: 'init/systemd/netns.service.njk' },
  sysvinit: { daemon: 'init/sysvinit/daemon.sh.njk', netns: 'init/sysvinit/netns.sh.njk' },
  upstart: { daemon: 'init/upstart/daemon.conf.njk', netns: 'init/upstart/netns.conf.njk' },
};

/** Descriptions are free text in unit files: one line, no characters a shell or unit parser treats specially. */
function description(text: string): string {
  if (!/^[A-Za-z0-9 _.,:()\/-]+$/.test(text)) throw new UnsafeValue(`unsafe unit description: ${JSON.stringify(text)}`);
  return text;
}

export function daemonUnitView(spec: DaemonUnitSpec) {
  return {
    unit: configToken(spec.unit, 'unit'),
    description: description(spec.description),
    command: spec.argv.map((a, i) => configToken(a, `argv[${i}]`)).join(' '),
    pidFile: configToken(spec.pidFile, 'pid file'),
    identity: {
      comm: configToken(spec.identity.comm, 'command name'),
      config: configToken(spec.identity.config, 'config file'),
      pidFile: configToken(spec.identity.pidFile, 'pid file'),
    },
    allPidFiles: [spec.pidFile, ...spec.childPidFiles].map((p) => configToken(p, 'pid file')).join(' '),
    logFile: configToken(spec.logFile, 'log file'),
    netnsUnit: configToken(spec.netnsUnit, 'netns unit'),
    netnsSetupScript: configToken(spec.netnsSetupScript, 'netns setup script'),
    reloadSignal: signal(reloadOf(spec).signal),
    nofile: spec.nofile === undefined ? null : nofile(spec.nofile),
    nice: spec.nice === undefined ? null : nice(spec.nice),
  };
}

/** A niceness goes into a directive and a shell line: a whole number in -20..19 only. */
function nice(value: number): number {
  if (!Number.isSafeInteger(value) || value < -20 || value > 19) throw new UnsafeValue(`invalid niceness: ${JSON.stringify(value)}`);
  return value;
}

/** An open-file limit goes into a directive and a shell line: a positive whole number only. */
function nofile(limit: number): number {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new UnsafeValue(`invalid open-file limit: ${JSON.stringify(limit)}`);
  return limit;
}

function signal(name: ReloadSignal): ReloadSignal {
  if (!RELOAD_SIGNALS.includes(name)) throw new UnsafeValue(`unknown reload signal: ${JSON.stringify(name)}`);
  return name;
}

export function netnsUnitView(spec: NetnsUnitSpec) {
  return {
    unit: configToken(spec.unit, 'unit'),
    namespace: configToken(spec.namespace, 'namespace'),
    setupScript: configToken(spec.setupScript, 'setup script'),
  };
}

export function renderDaemonUnit(kind: UnitInitKind, spec: DaemonUnitSpec): string {
  return render(FILE[kind].daemon, daemonUnitView(spec));
}

export function renderNetnsUnit(kind: UnitInitKind, spec: NetnsUnitSpec): string {
  return render(FILE[kind].netns, netnsUnitView(spec));
}

/** The renderer the file-based init adapters are given (system/init/types.ts UnitRenderer). */
export const unitRenderer: UnitRenderer = { daemon: renderDaemonUnit, netns: renderNetnsUnit };
