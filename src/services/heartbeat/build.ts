/**
 * @module services/heartbeat/build
 * Assembles the heartbeat sender (counters, one heartbeat, the loop) from the seams
 * build-services hands it. The caller starts and stops the loop (main.ts) and tells it about new
 * settings (PUT /1.0/config).
 */
import type { LiveConfig } from '../../config/startup.js';
import type { Logger } from '../../log.js';
import type { Paths } from '../../system/paths.js';
import type { DatagramSender } from '../../system/udp-datagrams.js';
import type { HaproxySampler, LvsSampler } from '../telemetry/samples.js';
import { Heartbeat } from './beat.js';
import { HeartbeatCounters } from './counters.js';
import { HeartbeatLoop, type ScheduleOnce } from './loop.js';

export interface HeartbeatSeams {
  readonly config: () => LiveConfig;
  readonly paths: Paths;
  readonly knownListeners: () => readonly string[];
  readonly samplers: { readonly lvs: LvsSampler; readonly haproxy: HaproxySampler };
  readonly datagrams: DatagramSender;
  readonly log: Logger;
  readonly schedule?: ScheduleOnce;
}

export function buildHeartbeat(seams: HeartbeatSeams): HeartbeatLoop {
  const { config, log } = seams;
  const counters = new HeartbeatCounters(seams.paths.statsCountersFile, log);
  const heartbeat = new Heartbeat({ ...seams, counters });
  return new HeartbeatLoop({
    beat: () => heartbeat.beat(),
    prepare: () => counters.load(),
    intervalSeconds: () => config().health_manager.heartbeat_interval,
    log,
    ...(seams.schedule ? { schedule: seams.schedule } : {}),
  });
}
