/**
 * @module jobs/rotate-daemon-logs
 * Keeps the console logs of keepalived and haproxy (`<unit>.log` beside each config: every LVS
 * listener's keepalived, the VRRP keepalived, each load balancer's haproxy) from growing for the
 * life of the amphora. A log larger than `daemon_log_max_bytes` is rotated copy-truncate
 * (services/daemon-logs.ts, system/log-rotation.ts): `.1` gets its content, older copies shift
 * up to `daemon_log_keep`, and the live file is truncated in place, because the daemon keeps
 * appending through the descriptor its supervisor opened.
 * Copies are not compressed: the bound on disk is already set by the two options (at most
 * max × (keep + 1) per daemon), a plain `.1` is read as it is by an operator and by any tool,
 * and gzip would spend the agent's CPU on the amphora every time a busy daemon rolls over.
 * Must not: rotate a log while its daemon's start or reload wait reads it (DaemonLogs' lock),
 * or look for logs on disk beyond what the state names.
 */
import type { LiveConfig } from '../config/startup.js';
import type { Logger } from '../log.js';
import type { DaemonLogs } from '../services/daemon-logs.js';
import type { DaemonSpecs } from '../services/daemon-specs.js';
import type { StateStore } from '../services/state.js';
import { fileSize } from '../system/log-rotation.js';
import { managedDaemons } from '../services/managed-daemons.js';

export interface RotateDeps {
  readonly state: StateStore;
  readonly specs: DaemonSpecs;
  readonly logs: DaemonLogs;
  readonly config: () => LiveConfig;
  readonly log: Logger;
}

/** Rotates every managed daemon's log that is over the size; returns the logs it rotated. */
export async function rotateDaemonLogs(deps: RotateDeps): Promise<string[]> {
  const { daemon_log_max_bytes: maxBytes, daemon_log_keep: keep } = deps.config().amphora_agent;
  const rotated: string[] = [];
  for (const daemon of managedDaemons(deps.state.current, deps.specs)) {
    const file = daemon.spec.logFile;
    const size = await fileSize(file);
    if (size === undefined || size <= maxBytes) continue;
    try {
      const moved = await deps.logs.rotate(file, keep);
      if (moved === undefined) continue;
      rotated.push(file);
      deps.log.info({ unit: daemon.spec.unit, file, bytes: moved, keep }, 'daemon log rotated');
    } catch (err) {
      // one log that cannot be rotated (a full disk, a permission) must not keep the others growing
      deps.log.warn({ err, unit: daemon.spec.unit, file }, 'cannot rotate daemon log');
    }
  }
  return rotated;
}
