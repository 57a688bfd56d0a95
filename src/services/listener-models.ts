/**
 * @module services/listener-models
 * API 2.0: listeners sent as data (the listener model) and rendered by the agent. A request is
 * checked in three steps, each listing every problem it finds: shape (schema.ts), the UDP spec's
 * rules (rules.ts), then a port already taken on a VIP (409). The rendered text is then checked by
 * the real binary (`keepalived --config-test`, `haproxy -c`) before anything is replaced, and
 * installed through the same path as API 1.0 uploads: UDP and SCTP listeners each get their own
 * keepalived (services/lvs-listeners), the TCP and HTTP listeners of a load balancer share one
 * haproxy (services/haproxy-lbs). `validate` does all of this except installing. After every
 * change, services/one-packet-nat brings the reply rewrites of ONE_PACKET_SCHEDULING listeners
 * in step with the stored models.
 *
 * Model changes are serialized: the 409 check compares against every stored listener. Inside
 * that, each takes its listener's object lock, which API 1.0's uploads, actions and deletes of
 * that id take too (`objectLocks`, shared with the LVS and haproxy services), so that an API 1.0
 * request never lands between an install and the model it goes with. Order: models, then the
 * listener's id, then its load balancer's id; nothing takes them the other way round.
 */
import type { LiveConfig } from '../config/startup.js';
import type { Logger } from '../log.js';
import { Conflict, InvalidInput, ModelRejected, NotFound } from '../model/errors.js';
import { isLvsProtocol, listenerViolations } from '../model/listener/rules.js';
import { parseListenerShape, type Listener, type Protocol, type StoredListener } from '../model/listener/schema.js';
import type { Uuid } from '../model/uuid.js';
import { renderHaproxyConfig } from '../render/haproxy-view.js';
import { renderLvsListener } from '../render/lvs-view.js';
import type { ProcessRunner } from '../system/exec.js';
import { readIfExists } from '../system/files.js';
import type { Paths } from '../system/paths.js';
import type { StagedApply } from './apply/staged-apply.js';
import { validateKeepalivedConfig } from './apply/validators.js';
import type { CheckScripts } from './check-scripts.js';
import type { DaemonSpecs } from './daemon-specs.js';
import { md5Hex } from './digest.js';
import type { HaproxyLoadBalancers } from './haproxy-lbs.js';
import { KeyedLock } from './keyed-lock.js';
import type { LvsConfig, LvsListeners } from './lvs-listeners.js';
import type { OnePacketNat } from './one-packet-nat.js';
import type { StateStore } from './state.js';

export interface ListenerModelDeps {
  readonly config: () => LiveConfig;
  readonly paths: Paths;
  readonly runner: ProcessRunner;
  readonly state: StateStore;
  readonly scripts: CheckScripts;
  readonly applier: StagedApply;
  readonly specs: DaemonSpecs;
  readonly lvs: LvsListeners;
  readonly haproxy: HaproxyLoadBalancers;
  /** Members' replies to ONE_PACKET_SCHEDULING listeners from the VIP; synced after every change. */
  readonly onePacketNat: Pick<OnePacketNat, 'sync'>;
  /** The object locks the LVS and haproxy services take (DaemonServiceDeps.objectLocks). */
  readonly objectLocks: KeyedLock;
  readonly log: Logger;
}

export interface RenderedConfig {
  /** keepalived-lvs: this listener's own config; haproxy: its load balancer's combined config. */
  readonly kind: 'keepalived-lvs' | 'haproxy';
  readonly path: string;
  readonly text: string;
  /** MD5 of `text`, as API 1.0 answers for uploads. */
  readonly etag: string;
}

export interface ListenerAnswer {
  readonly listener_id: string;
  readonly listener: Listener;
  readonly rendered: RenderedConfig;
}

/** Layer-4 protocol of the socket a listener binds: TCP and HTTP listeners share haproxy's TCP ports. */
const socketProtocol = (p: Protocol): string => (p === 'HTTP' ? 'TCP' : p);

const notFound = (id: string) => new NotFound('Listener Not Found', `No listener model with UUID: ${id}`);

export class ListenerModels {
  private readonly lock = new KeyedLock();

  constructor(private readonly deps: ListenerModelDeps) {}

  /** Model changes one at a time, each holding its listener's object lock. */
  private exclusive<T>(id: Uuid, work: () => Promise<T>): Promise<T> {
    return this.lock.run('models', () => this.deps.objectLocks.run(id, work));
  }

  /** JSON → shape → rules; throws InvalidInput or ModelRejected (400) listing every violation. */
  parse(body: Buffer): Listener {
    if (body.length === 0) throw new InvalidInput('Invalid request', 'the request body is empty');
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch (err) {
      throw new InvalidInput('Invalid request', `the body is not JSON: ${(err as Error).message}`);
    }
    const shape = parseListenerShape(json);
    if (!shape.ok) throw new ModelRejected(shape.violations);
    const violations = listenerViolations(shape.listener, {
      udpConnectMinDelay: this.deps.config().api_settings.udp_connect_min_interval_health_monitor,
    });
    if (violations.length > 0) throw new ModelRejected(violations);
    return shape.listener;
  }

  /** Every stored listener model. */
  all(): StoredListener[] {
    return Object.entries(this.deps.state.current.listenerModels).map(([id, e]) => ({ id, listener: e.model as Listener }));
  }

  stored(id: string): Listener | undefined {
    return this.deps.state.current.listenerModels[id]?.model as Listener | undefined;
  }

  /** 409 when another listener already binds this protocol and port on one of these VIPs. */
  private checkConflicts(id: Uuid, listener: Listener): void {
    const proto = socketProtocol(listener.protocol);
    for (const [otherId, entry] of Object.entries(this.deps.state.current.listenerModels)) {
      if (otherId === id) continue;
      const other = entry.model as Listener;
      if (socketProtocol(other.protocol) !== proto || other.protocol_port !== listener.protocol_port) continue;
      const shared = listener.vip_addresses.filter((a) => other.vip_addresses.includes(a));
      if (shared.length > 0) {
        throw new Conflict('Listener port conflict', `${proto} port ${listener.protocol_port} on ${shared.join(', ')} is already used by listener ${otherId}`);
      }
    }
  }

  private lvsSettings() {
    const config = this.deps.config();
    return {
      namespace: this.deps.paths.namespace,
      sctpCheckCommand: config.amphora_agent.sctp_check_cmd,
    };
  }

  /** The haproxy listeners of load balancer `lbId` as stored, with `id` replaced by `listener` (or left out when null). */
  private haproxySiblings(lbId: string, id: string, listener: Listener | null): StoredListener[] {
    const out = this.all().filter((l) => l.id !== id && l.listener.loadbalancer_id === lbId && !isLvsProtocol(l.listener.protocol));
    if (listener !== null) out.push({ id, listener });
    return out.sort((a, b) => a.id.localeCompare(b.id));
  }

  private renderHaproxy(lbId: Uuid, listeners: readonly StoredListener[]): RenderedConfig {
    const text = renderHaproxyConfig(lbId, listeners, this.deps.specs.haproxyRenderSettings(lbId));
    return { kind: 'haproxy', path: this.deps.paths.haproxyConfig(lbId), text, etag: md5Hex(text) };
  }

  /**
   * UDP/SCTP: the listener's own keepalived config, and what LvsListeners records of it;
   * TCP/HTTP: its load balancer's combined haproxy config.
   */
  private render(id: Uuid, listener: Listener): { rendered: RenderedConfig; lvs: LvsConfig | null } {
    if (!isLvsProtocol(listener.protocol)) {
      const lbId = listener.loadbalancer_id as Uuid;
      return { rendered: this.renderHaproxy(lbId, this.haproxySiblings(lbId, id, listener)), lvs: null };
    }
    const { text, virtualServers, layout } = renderLvsListener(listener, id, this.lvsSettings());
    const rendered: RenderedConfig = { kind: 'keepalived-lvs', path: this.deps.paths.lvsConfig(id), text, etag: md5Hex(text) };
    return { rendered, lvs: { text, protocol: listener.protocol === 'SCTP' ? 'SCTP' : 'UDP', virtualServers, layout } };
  }

  /** Re-applies load balancer `lbId` without listener `id`; removes its haproxy when no listener is left. */
  private async dropFromHaproxy(lbId: Uuid, id: string): Promise<void> {
    const rest = this.haproxySiblings(lbId, id, null);
    if (rest.length === 0) await this.deps.haproxy.remove(lbId);
    else await this.deps.haproxy.apply(lbId, this.renderHaproxy(lbId, rest).text, rest.map((l) => l.id));
  }

  /** Everything but installing: rules, conflicts, rendering and the real binary's check. */
  async validate(id: Uuid, body: Buffer): Promise<ListenerAnswer> {
    const listener = this.parse(body);
    return this.lock.run('models', async () => {
      this.checkConflicts(id, listener);
      const { rendered } = this.render(id, listener);
      if (rendered.kind === 'haproxy') await this.deps.haproxy.validate(listener.loadbalancer_id as Uuid, rendered.text);
      else await this.checkLvs(rendered);
      return { listener_id: id, listener, rendered };
    });
  }

  async put(id: Uuid, body: Buffer): Promise<ListenerAnswer> {
    const listener = this.parse(body);
    return this.exclusive(id, async () => {
      this.checkConflicts(id, listener);
      const { rendered, lvs: lvsConfig } = this.render(id, listener);
      const { lvs, haproxy, state } = this.deps;
      const previous = this.stored(id);
      const lbId = listener.loadbalancer_id as Uuid;
      // Both paths check the text with the real binary before they replace anything, then start
      // the daemon or reload the running one; a failure leaves the listener as it was.
      if (lvsConfig !== null) {
        await lvs.install(id, lvsConfig, { activate: true });
      } else {
        await haproxy.apply(lbId, rendered.text, this.haproxySiblings(lbId, id, listener).map((l) => l.id));
      }
      await state.update((s) => void (s.listenerModels[id] = { model: listener as unknown as Record<string, unknown>, etag: rendered.etag }));
      // The listener moved (UDP ↔ TCP, or to another load balancer): take it out of its old place.
      if (previous !== undefined) {
        const wasLvs = isLvsProtocol(previous.protocol);
        if (wasLvs && rendered.kind === 'haproxy') await lvs.remove(id);
        if (!wasLvs && (rendered.kind !== 'haproxy' || previous.loadbalancer_id !== lbId)) await this.dropFromHaproxy(previous.loadbalancer_id as Uuid, id);
      }
      await this.deps.onePacketNat.sync(this.all());
      return { listener_id: id, listener, rendered };
    });
  }

  async get(id: Uuid): Promise<ListenerAnswer> {
    const listener = this.stored(id);
    if (listener === undefined) throw notFound(id);
    const lvs = isLvsProtocol(listener.protocol);
    const path = lvs ? this.deps.paths.lvsConfig(id) : this.deps.paths.haproxyConfig(listener.loadbalancer_id as Uuid);
    // what is installed, not a new render
    const text = (await readIfExists(path)) ?? '';
    return { listener_id: id, listener, rendered: { kind: lvs ? 'keepalived-lvs' : 'haproxy', path, text, etag: md5Hex(text) } };
  }

  async remove(id: Uuid): Promise<void> {
    await this.exclusive(id, async () => {
      const listener = this.stored(id);
      if (listener === undefined) throw notFound(id);
      if (isLvsProtocol(listener.protocol)) await this.deps.lvs.remove(id);
      else await this.dropFromHaproxy(listener.loadbalancer_id as Uuid, id);
      await this.deps.state.update((s) => void delete s.listenerModels[id]);
      await this.deps.onePacketNat.sync(this.all());
    });
  }

  /**
   * API 1.0's `DELETE /1.0/listeners/{id}`: whatever goes by that id, decided under its locks, so
   * that an API 2.0 PUT of the same id is wholly before or wholly after it. A listener made
   * through API 2.0 goes with its model. The controller sends a load balancer's id when its last
   * TCP/HTTP listener goes: its haproxy goes, and so do the models of its haproxy listeners,
   * which would otherwise keep their ports taken (409) with nothing serving them. Anything else
   * is an LVS listener of API 1.0 (idempotent).
   */
  async removeV1(id: Uuid): Promise<void> {
    await this.exclusive(id, async () => {
      if (this.stored(id) !== undefined) return this.remove(id);
      if (!this.deps.haproxy.has(id)) return this.deps.lvs.remove(id);
      await this.deps.haproxy.remove(id);
      const orphans = this.all().filter((l) => l.listener.loadbalancer_id === id && !isLvsProtocol(l.listener.protocol));
      if (orphans.length === 0) return;
      await this.deps.state.update((s) => orphans.forEach((o) => delete s.listenerModels[o.id]));
      await this.deps.onePacketNat.sync(this.all());
    });
  }

  /** keepalived --config-test on a throw-away copy of the listener's rendered config. */
  private async checkLvs(rendered: RenderedConfig): Promise<void> {
    const { scripts, runner, log, applier } = this.deps;
    // the UDP-CONNECT probe the config names must exist
    await scripts.writeUdpCheck();
    await applier.check(rendered.path, rendered.text, (file) => validateKeepalivedConfig(runner, this.deps.paths.keepalivedCmd, file, log));
  }
}
