/**
 * @module services/heartbeat/beat
 * One heartbeat, as the reference's health sender makes it: unless the VRRP keepalived is
 * configured and not running, one look at the daemons (the LVS and haproxy samplers), the counter
 * deltas, the v3 message, the counters written ahead, and one signed datagram to the next
 * controller. Every outcome is logged here; nothing is thrown. The schedule is loop.ts's.
 */
import { stat } from 'node:fs/promises';
import type { LiveConfig } from '../../config/startup.js';
import type { Logger } from '../../log.js';
import type { Paths } from '../../system/paths.js';
import { pidFileState } from '../../system/processes.js';
import { vrrpIdentity } from '../daemon-specs.js';
import type { DatagramSender, Destination } from '../../system/udp-datagrams.js';
import type { HaproxySampler, LvsSampler, TelemetrySnapshot } from '../telemetry/samples.js';
import type { HeartbeatCounters } from './counters.js';
import { describeDestination, HeartbeatDestinations } from './destinations.js';
import { wrapEnvelope } from './envelope.js';
import { buildHeartbeatMessage, snapshotListeners } from './message.js';

export interface HeartbeatDeps {
  readonly config: () => LiveConfig;
  readonly paths: Paths;
  /** The ids of the listeners the agent manages (StateStore.listenerIds): whose counters are kept. */
  readonly knownListeners: () => readonly string[];
  readonly samplers: { readonly lvs: LvsSampler; readonly haproxy: HaproxySampler };
  readonly counters: HeartbeatCounters;
  readonly datagrams: DatagramSender;
  readonly log: Logger;
}

/** What one heartbeat came to. */
export type BeatOutcome = 'sent' | 'send-failed' | 'unconfigured' | 'skipped' | 'failed';

interface Ready {
  readonly amphoraId: string;
  readonly key: string;
  readonly entries: readonly string[];
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/**
 * Why no heartbeat may be sent now: the VRRP keepalived is configured (its config exists) but its
 * pid file is missing or names no live process. Staying silent then lets the controller fail the
 * amphora over, which is the point (the reference's rule).
 */
export async function vrrpDown(paths: Paths): Promise<string | undefined> {
  if (!(await isFile(paths.vrrpConfig))) return undefined;
  const pid = await pidFileState(paths, paths.vrrpPidFile, vrrpIdentity(paths));
  if (pid === 'absent') return `missing keepalived pid file ${paths.vrrpPidFile}`;
  if (pid === 'stale') return 'keepalived is configured but not running';
  return undefined;
}

export class Heartbeat {
  private seq = 0;
  private sentOne = false;
  /** The configuration problem last logged as an error (logged once, then at debug). */
  private reported: string | undefined;
  private readonly destinations: HeartbeatDestinations;

  constructor(private readonly deps: HeartbeatDeps) {
    this.destinations = new HeartbeatDestinations(deps.datagrams, deps.log);
  }

  /** One heartbeat; never throws. */
  async beat(): Promise<BeatOutcome> {
    const { log } = this.deps;
    try {
      const ready = this.ready();
      if (ready === undefined) return 'unconfigured';
      const down = await vrrpDown(this.deps.paths);
      if (down !== undefined) {
        log.error({ reason: down }, 'skipping the heartbeat: the VRRP keepalived is not running');
        return 'skipped';
      }
      const destination = await this.destinations.next(ready.entries);
      if (destination === undefined) return this.unconfigured('no controller_ip_port_list entry resolves to an address');
      const buildStarted = performance.now();
      const snapshot = await this.sample();
      return await this.send(ready, destination, snapshot, buildStarted);
    } catch (err) {
      log.error({ err }, 'cannot build the heartbeat; skipping it');
      return 'failed';
    }
  }

  /** The options a heartbeat needs, or undefined (logged) when one is missing. */
  private ready(): Ready | undefined {
    const config = this.deps.config();
    const amphoraId = config.amphora_agent.amphora_id;
    const key = config.health_manager.heartbeat_key;
    const entries = config.health_manager.controller_ip_port_list;
    // The reference would send with the key "None", which no controller verifies: send nothing.
    if (key === null) return void this.unconfigured('no [health_manager] heartbeat_key');
    if (amphoraId === null) return void this.unconfigured('no [amphora_agent] amphora_id');
    if (entries.length === 0) return void this.unconfigured('no [health_manager] controller_ip_port_list');
    this.reported = undefined;
    return { amphoraId, key, entries };
  }

  private unconfigured(problem: string): BeatOutcome {
    this.deps.log[problem === this.reported ? 'debug' : 'error']({ problem }, 'no heartbeat is sent');
    this.reported = problem;
    return 'unconfigured';
  }

  private async sample(): Promise<TelemetrySnapshot> {
    const [haproxy, lvs] = await Promise.all([this.deps.samplers.haproxy.sample(), this.deps.samplers.lvs.sample()]);
    return { haproxy, lvs };
  }

  /** `buildStarted`: performance.now() before the samplers ran, for the `buildMs` of the log line. */
  private async send(ready: Ready, destination: Destination, snapshot: TelemetrySnapshot, buildStarted: number): Promise<BeatOutcome> {
    const { counters, log } = this.deps;
    const deltas = counters.advance(snapshotListeners(snapshot), new Set(this.deps.knownListeners()));
    const message = buildHeartbeatMessage(ready.amphoraId, this.seq++, snapshot, deltas);
    try {
      await counters.persist(); // before the send: a restart must never send these deltas again
    } catch (err) {
      // The heartbeat matters more than exact statistics: without it the amphora is failed over.
      log.warn({ err }, 'cannot write the stats counters file; sending the heartbeat anyway');
    }
    const bytes = wrapEnvelope(message, ready.key);
    // what building this heartbeat took (samplers, deltas, message, counters file, envelope): the bench reads it
    const buildMs = Math.round((performance.now() - buildStarted) * 100) / 100;
    const to = describeDestination(destination);
    const summary = { seq: message.seq, to, listeners: Object.keys(message.listeners).length, pools: Object.keys(message.pools).length, bytes: bytes.length, buildMs };
    try {
      await this.deps.datagrams.send(destination, bytes);
    } catch (err) {
      // e.g. "network unreachable" while the amphora's network comes up at boot; the next one may pass
      log.debug({ ...summary, err }, 'heartbeat not sent');
      return 'send-failed';
    }
    if (this.sentOne) log.debug(summary, 'heartbeat sent');
    else log.info(summary, 'first heartbeat sent');
    this.sentOne = true;
    return 'sent';
  }
}
