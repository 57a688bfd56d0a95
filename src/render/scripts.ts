/**
 * @module render/scripts
 * View builders and renderers for the shell scripts the agent installs: the namespace setup,
 * the VRRP check script, the LVS and haproxy liveness checks and the UDP-CONNECT member check. Pure.
 */
import { configToken } from '../model/config-token.js';
import { render } from './environment.js';

export interface NetnsSetupSpec {
  readonly namespace: string;
  readonly ipCmd: string;
  /** The file the script holds a flock on while it sets the namespace up (paths.netnsLockFile). */
  readonly lockFile: string;
  /** modprobe ip_vs on the host (skipped where modules cannot be loaded). */
  readonly loadModules: boolean;
  /**
   * The agent as the netns units must run it (`node <cli> --config-file F …`), to which the
   * script appends `interfaces up`; absent when the agent cannot be run from a unit (embedded).
   */
  readonly bootCommand?: readonly string[] | undefined;
}

export function renderNetnsSetup(spec: NetnsSetupSpec): string {
  return render('scripts/netns-setup.sh.njk', {
    namespace: configToken(spec.namespace, 'namespace'),
    ipCmd: configToken(spec.ipCmd, 'ip command'),
    lockFile: configToken(spec.lockFile, 'netns lock file'),
    loadModules: spec.loadModules,
    bootCommand: spec.bootCommand?.map((a, i) => configToken(a, `agent command argv[${i}]`)).join(' ') ?? '',
  });
}

export function renderVrrpCheck(checkScriptsDir: string): string {
  return render('scripts/vrrp-check.sh.njk', { checkScriptsDir: configToken(checkScriptsDir, 'check scripts dir') });
}

export interface LivenessEntry {
  readonly id: string;
  readonly pidFile: string;
  /** The config keepalived was started with (`-f`): with the pid file, what makes it this listener's. */
  readonly config: string;
  /** The health-checker child's pid file, for listeners whose config has virtual servers. */
  readonly checkPidFile: string | null;
}

export function renderLvsLivenessCheck(procDir: string, listeners: readonly LivenessEntry[]): string {
  return render('scripts/lvs-liveness-check.sh.njk', {
    procDir: configToken(procDir, 'proc dir'),
    listeners: [...listeners]
      .sort((a, b) => a.id.localeCompare(b.id))
      .map((l) => ({
        id: configToken(l.id, 'listener id'),
        pidFile: configToken(l.pidFile, 'pid file'),
        config: configToken(l.config, 'config file'),
        checkPidFile: l.checkPidFile === null ? null : configToken(l.checkPidFile, 'pid file'),
      })),
  });
}

export interface HaproxyLivenessEntry {
  readonly id: string;
  /** The master's pid file. */
  readonly pidFile: string;
  /** The config haproxy was started with (`-f`). */
  readonly config: string;
}

export function renderHaproxyLivenessCheck(procDir: string, loadBalancers: readonly HaproxyLivenessEntry[]): string {
  return render('scripts/haproxy-liveness-check.sh.njk', {
    procDir: configToken(procDir, 'proc dir'),
    loadBalancers: [...loadBalancers]
      .sort((a, b) => a.id.localeCompare(b.id))
      .map((lb) => ({ id: configToken(lb.id, 'load balancer id'), pidFile: configToken(lb.pidFile, 'pid file'), config: configToken(lb.config, 'config file') })),
  });
}

export function renderUdpCheck(): string {
  return render('scripts/udp-check.sh.njk', {});
}
