/**
 * @module render/haproxy-settings
 * The render settings of a haproxy config (what render/haproxy-view.ts takes besides the
 * listeners), and the ones every production config is made with: the stats socket where paths
 * put it, logs to haproxy's standard output (its supervisor appends it to the daemon's log
 * file) up to `notice` only — server and backend state changes, not one line per connection,
 * since that file is only rotated by size (jobs/rotate-daemon-logs.ts). Tests and goldens use this function too, so they render with
 * what the agent installs. Pure; the settings are checked where they are rendered
 * (render/haproxy-global-view.ts), not here.
 */

export const LOG_LEVELS = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface HaproxyRenderSettings {
  /** The stats socket (paths.haproxyStatsSocket). */
  readonly statsSocket: string;
  /**
   * The file the agent saves the server states to before a reload (paths.haproxyServersState),
   * read by the new process for every health-checked backend, as Octavia renders it. null: none.
   */
  readonly serverStateFile: string | null;
  /**
   * Where haproxy logs: `stdout` (the daemon's log file under its supervisor), a syslog socket
   * or `host:port`; facility local0–local7 by number; messages above `maxLevel` are dropped
   * (`info` is one line per connection). null: no log lines.
   */
  readonly log: { readonly target: string; readonly facility: number; readonly maxLevel: LogLevel } | null;
  /** User and group haproxy's workers drop to after binding; null keeps root. */
  readonly user: string | null;
  readonly group: string | null;
  /** The maxconn of a listener without connection_limit. */
  readonly defaultMaxconn: number;
  /**
   * The process-wide limit: `sum` of the frontends' maxconn (Octavia's), or `auto`: none in the
   * config, so haproxy derives it from its file-descriptor limit. haproxy refuses to start when
   * the limit a `sum` needs is above the hard RLIMIT_NOFILE it may not raise (a container).
   */
  readonly globalMaxconn: 'sum' | 'auto';
}

/** Octavia's HAPROXY_DEFAULT_MAXCONN: the limit of a listener without connection_limit. */
export const DEFAULT_MAXCONN = 50000;

export function haproxyRenderSettings(statsSocket: string, logFacility: number, serverStateFile: string): HaproxyRenderSettings {
  return {
    statsSocket,
    serverStateFile,
    log: { target: 'stdout', facility: logFacility, maxLevel: 'notice' },
    // Octavia's: haproxy drops root after binding. `nogroup` is Debian's and Ubuntu's name.
    user: 'nobody',
    group: 'nogroup',
    defaultMaxconn: DEFAULT_MAXCONN,
    // The sum of 50000 per listener needs more file descriptors than a container may have
    // (haproxy then refuses to start); haproxy sizes its global limit to what it can get.
    globalMaxconn: 'auto',
  };
}
