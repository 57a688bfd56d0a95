/**
 * @module render/haproxy-global-view
 * The global section of the haproxy view, from the render settings and the frontends: the
 * process-wide maxconn, the stats socket, the server-state file, logging and the user and group
 * to drop to. Pure;
 * every setting is checked here as it is put into the config.
 *
 * - the global maxconn is the sum of the frontends' (or `defaultMaxconn` when there is none),
 *   or haproxy's own (`globalMaxconn: 'auto'`).
 * - no `daemon` in global: haproxy runs in the foreground under its supervisor (-W -db). The
 *   stats socket is always there; it also keeps a config whose listeners are all disabled
 *   valid, so that haproxy idles instead of refusing to start ("no listener").
 */
import { configToken } from '../model/config-token.js';
import { UnsafeValue } from '../model/errors.js';
import { LOG_LEVELS, type HaproxyRenderSettings } from './haproxy-settings.js';
import type { FrontendView, GlobalView } from './haproxy-view-types.js';
import { num } from './haproxy-values.js';

function logOf(log: HaproxyRenderSettings['log']): GlobalView['log'] {
  if (log === null) return null;
  if (!LOG_LEVELS.includes(log.maxLevel)) throw new UnsafeValue(`unknown log level: ${JSON.stringify(log.maxLevel)}`);
  if (num(log.facility, 'log facility') > 7) throw new UnsafeValue(`log facility is not 0-7: ${log.facility}`);
  return {
    target: configToken(log.target, 'log target'),
    // haproxy writes syslog lines to a socket, and bare messages to its own output
    raw: log.target === 'stdout' || log.target === 'stderr',
    facility: configToken(`local${log.facility}`, 'log facility'),
    maxLevel: configToken(log.maxLevel, 'log level'),
  };
}

/** `defaultMaxconn` is the checked settings.defaultMaxconn. */
export function globalOf(settings: HaproxyRenderSettings, frontends: readonly FrontendView[], defaultMaxconn: number): GlobalView {
  return {
    maxconn: settings.globalMaxconn === 'auto' ? null : frontends.length === 0 ? defaultMaxconn : frontends.reduce((sum, f) => sum + f.maxconn, 0),
    statsSocket: configToken(settings.statsSocket, 'stats socket'),
    serverStateFile: settings.serverStateFile === null ? null : configToken(settings.serverStateFile, 'server state file'),
    log: logOf(settings.log),
    user: settings.user === null ? null : configToken(settings.user, 'user'),
    group: settings.group === null ? null : configToken(settings.group, 'group'),
  };
}
