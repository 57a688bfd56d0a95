/**
 * @module render/init-units
 * View builders and renderers for the init units the agent installs: one per daemon
 * (a keepalived per LVS listener, the VRRP keepalived, a haproxy per load balancer) and one for
 * the network namespace, for systemd, sysvinit and upstart. Every daemon runs in the foreground
 * under its supervisor (keepalived -n, haproxy -W -db) with its console output appended to a log
 * file, so that the agent can show the tail of it when a start fails. Pure.
 *
 * Daemons differ in how they reload: keepalived re-reads its config on SIGHUP and logs
 * "Reloading", haproxy's master re-executes itself on SIGUSR2 and logs "Loading success." (or
 * "Loading failure!", keeping the old workers). `DaemonUnitSpec.reload` says which; every unit
 * template and the direct adapter send that signal, and services/daemon-health waits for the line.
 */
import { configToken } from '../model/config-token.js';
import { render } from './environment.js';

export type UnitInitKind = 'systemd' | 'sysvinit' | 'upstart';

/** Signals a daemon may be reloaded with (names without SIG, as kill(1) takes them). */
export type ReloadSignal = 'HUP' | 'USR2';

/** How a running daemon is told to re-read its config, and how it says it did. */
export interface ReloadProtocol {
  readonly signal: ReloadSignal;
  /** A line the daemon logs once it has acted on the signal. */
  readonly acknowledged: RegExp;
  /** A line the daemon logs when the reload failed and the old config keeps running, or null. */
  readonly failed: RegExp | null;
}

/** keepalived: SIGHUP, then "Reloading ..." in its console output. */
export const KEEPALIVED_RELOAD: ReloadProtocol = { signal: 'HUP', acknowledged: /Reloading/, failed: null };

/** A daemon's reload protocol; keepalived's when the spec names none. */
export const reloadOf = (spec: DaemonUnitSpec): ReloadProtocol => spec.reload ?? KEEPALIVED_RELOAD;

export interface DaemonUnitSpec {
  /** Service name, e.g. octavia-keepalivedlvs-<id>. */
  readonly unit: string;
  readonly description: string;
  /** The foreground command, already prefixed with `ip netns exec <ns>` where needed. */
  readonly argv: readonly string[];
  readonly pidFile: string;
  /** Pid files of the daemon's children, removed with a stale main pid file. */
  readonly childPidFiles: readonly string[];
  readonly logFile: string;
  readonly netnsUnit: string;
  readonly netnsSetupScript: string;
  /** Reload signal and acknowledgement; keepalived's (KEEPALIVED_RELOAD) when absent. */
  readonly reload?: ReloadProtocol;
  /**
   * A line the daemon logs once it serves after a start (past the log's size before the start),
   * waited for before the settle time; none when absent (keepalived).
   */
  readonly ready?: RegExp;
}

export interface NetnsUnitSpec {
  readonly unit: string;
  readonly namespace: string;
  readonly setupScript: string;
}

const SIGNALS: readonly ReloadSignal[] = ['HUP', 'USR2'];

const FILE: Record<UnitInitKind, { daemon: string; netns: string }> = {
  systemd: { daemon: 'init/systemd/daemon.service.njk', netns: 'init/systemd/netns.service.njk' },
  sysvinit: { daemon: 'init/sysvinit/daemon.sh.njk', netns: 'init/sysvinit/netns.sh.njk' },
  upstart: { daemon: 'init/upstart/daemon.conf.njk', netns: 'init/upstart/netns.conf.njk' },
};

/** Descriptions are free text in unit files: one line, no characters a shell or unit parser treats specially. */
function description(text: string): string {
  if (!/^[A-Za-z0-9 _.,:()\/-]+$/.test(text)) throw new Error(`unsafe unit description: ${JSON.stringify(text)}`);
  return text;
}

export function daemonUnitView(spec: DaemonUnitSpec) {
  return {
    unit: configToken(spec.unit, 'unit'),
    description: description(spec.description),
    command: spec.argv.map((a, i) => configToken(a, `argv[${i}]`)).join(' '),
    pidFile: configToken(spec.pidFile, 'pid file'),
    allPidFiles: [spec.pidFile, ...spec.childPidFiles].map((p) => configToken(p, 'pid file')).join(' '),
    logFile: configToken(spec.logFile, 'log file'),
    netnsUnit: configToken(spec.netnsUnit, 'netns unit'),
    netnsSetupScript: configToken(spec.netnsSetupScript, 'netns setup script'),
    reloadSignal: signal(reloadOf(spec).signal),
  };
}

function signal(name: ReloadSignal): ReloadSignal {
  if (!SIGNALS.includes(name)) throw new Error(`unknown reload signal: ${JSON.stringify(name)}`);
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
