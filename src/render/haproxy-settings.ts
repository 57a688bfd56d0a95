/**
 * @module render/haproxy-settings
 * The render settings every production haproxy config is made with (render/haproxy-view.ts):
 * the stats socket where paths put it, logs to haproxy's standard output (its supervisor
 * appends it to the daemon's log file) up to `notice` only — server and backend state changes,
 * not one line per connection, since that file is never rotated. Tests and goldens use this
 * function too, so they render with what the agent installs. Pure.
 */
import type { HaproxyRenderSettings } from './haproxy-view.js';

/** Octavia's HAPROXY_DEFAULT_MAXCONN: the limit of a listener without connection_limit. */
export const DEFAULT_MAXCONN = 50000;

export function haproxyRenderSettings(statsSocket: string, logFacility: number): HaproxyRenderSettings {
  return {
    statsSocket,
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
