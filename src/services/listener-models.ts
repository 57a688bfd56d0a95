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
 * Model changes are serialized: the 409 check compares against every stored listener.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { AgentConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { Conflict, InvalidInput, NotFound } from '../model/errors.js';
import { isLvsProtocol, listenerViolations } from '../model/listener/rules.js';
import { parseListenerShape, type Listener, type Protocol } from '../model/listener/schema.js';
import { ModelRejected } from '../model/listener/violations.js';
import type { Uuid } from '../model/uuid.js';
import { renderHaproxyConfig } from '../render/haproxy-view.js';
import { renderLvsConfig } from '../render/lvs-view.js';
import type { ProcessRunner } from '../system/exec.js';
import { ensureDir, readIfExists, removeFile, writeFileAtomic } from '../system/files.js';
import type { Paths } from '../system/paths.js';
import { md5Hex } from './digest.js';
import type { CheckScripts } from './check-scripts.js';
import type { HaproxyDaemons } from './haproxy-daemons.js';
import type { HaproxyLoadBalancers } from './haproxy-lbs.js';
import { validateKeepalivedConfig } from './keepalived-validate.js';
import { KeyedLock } from './keyed-lock.js';
import type { LvsListeners } from './lvs-listeners.js';
import type { OnePacketNat } from './one-packet-nat.js';
import type { StateStore } from './state.js';

export interface ListenerModelDeps {
  readonly config: () => AgentConfig;
  readonly paths: Paths;
  readonly runner: ProcessRunner;
  readonly state: StateStore;
  readonly scripts: CheckScripts;
  readonly lvs: LvsListeners;
  readonly haproxy: HaproxyLoadBalancers;
  readonly haproxyDaemons: HaproxyDaemons;
  /** Members' replies to ONE_PACKET_SCHEDULING listeners from the VIP; synced after every change. */
  readonly onePacketNat: Pick<OnePacketNat, 'sync'>;
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
  all(): { id: string; listener: Listener }[] {
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
      namespace: config.amphora_agent.network_namespace,
      udpCheckScript: this.deps.paths.udpCheckScript,
      sctpCheckCommand: config.amphora_agent.sctp_check_cmd,
    };
  }

  /** The haproxy listeners of load balancer `lbId` as stored, with `id` replaced by `listener` (or left out when null). */
  private haproxySiblings(lbId: string, id: string, listener: Listener | null): { id: string; listener: Listener }[] {
    const out = this.all().filter((l) => l.id !== id && l.listener.loadbalancer_id === lbId && !isLvsProtocol(l.listener.protocol));
    if (listener !== null) out.push({ id, listener });
    return out.sort((a, b) => a.id.localeCompare(b.id));
  }

  private renderHaproxy(lbId: Uuid, listeners: readonly { id: string; listener: Listener }[]): RenderedConfig {
    const text = renderHaproxyConfig(lbId, listeners, this.deps.haproxyDaemons.renderSettings(lbId));
    return { kind: 'haproxy', path: this.deps.paths.haproxyConfig(lbId), text, etag: md5Hex(text) };
  }

  /** UDP/SCTP: the listener's own keepalived config; TCP/HTTP: its load balancer's combined haproxy config. */
  private render(id: Uuid, listener: Listener): RenderedConfig {
    if (!isLvsProtocol(listener.protocol)) {
      const lbId = listener.loadbalancer_id as Uuid;
      return this.renderHaproxy(lbId, this.haproxySiblings(lbId, id, listener));
    }
    const text = renderLvsConfig(listener, id, this.lvsSettings());
    return { kind: 'keepalived-lvs', path: this.deps.paths.lvsConfig(id), text, etag: md5Hex(text) };
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
      const rendered = this.render(id, listener);
      if (rendered.kind === 'haproxy') await this.deps.haproxy.validate(listener.loadbalancer_id as Uuid, rendered.text);
      else await this.checkWithBinary(rendered);
      return { listener_id: id, listener, rendered };
    });
  }

  async put(id: Uuid, body: Buffer): Promise<ListenerAnswer> {
    const listener = this.parse(body);
    return this.lock.run('models', async () => {
      this.checkConflicts(id, listener);
      const rendered = this.render(id, listener);
      const { lvs, haproxy, state } = this.deps;
      const previous = this.stored(id);
      const lbId = listener.loadbalancer_id as Uuid;
      // Both paths check the text with the real binary before they replace anything, then start
      // the daemon or reload the running one.
      if (rendered.kind === 'keepalived-lvs') {
        await lvs.upload(id, Buffer.from(rendered.text));
        await lvs.act(id, 'start');
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
    await this.lock.run('models', async () => {
      const listener = this.stored(id);
      if (listener === undefined) throw notFound(id);
      if (isLvsProtocol(listener.protocol)) await this.deps.lvs.remove(id);
      else await this.dropFromHaproxy(listener.loadbalancer_id as Uuid, id);
      await this.deps.state.update((s) => void delete s.listenerModels[id]);
      await this.deps.onePacketNat.sync(this.all());
    });
  }

  private async checkWithBinary(rendered: RenderedConfig): Promise<void> {
    const { paths, scripts, runner, log } = this.deps;
    const agent = this.deps.config().amphora_agent;
    await ensureDir(paths.lvsDir);
    // the UDP-CONNECT probe the config names, and the namespace (keepalived checks nothing in a missing one)
    await scripts.writeUdpCheck();
    await scripts.ensureNamespace();
    const file = join(paths.lvsDir, `.validate-${randomUUID()}.conf`);
    await writeFileAtomic(file, rendered.text, 0o644);
    try {
      await validateKeepalivedConfig(runner, agent.keepalived_cmd, file, log);
    } finally {
      await removeFile(file);
    }
  }
}
