/**
 * @module services/listener-models
 * API 2.0: listeners sent as data (the listener model) and rendered by the agent. A request is
 * checked in three steps, each listing every problem it finds: shape (schema.ts), the UDP spec's
 * rules (rules.ts), then a port already taken on a VIP (409). The rendered text is then checked by
 * the real binary (`keepalived --config-test`, `haproxy -c`) before anything is replaced, and
 * installed through the same path as API 1.0 uploads: UDP and SCTP listeners each get their own
 * keepalived (services/lvs-listeners), the TCP and HTTP listeners of a load balancer share one
 * haproxy (services/haproxy-lbs). `validate` does all of this except installing.
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
import { renderLvsConfig } from '../render/lvs-view.js';
import type { ProcessRunner } from '../system/exec.js';
import { ensureDir, readIfExists, removeFile, writeFileAtomic } from '../system/files.js';
import type { Paths } from '../system/paths.js';
import { md5Hex } from './digest.js';
import type { CheckScripts } from './check-scripts.js';
import { validateKeepalivedConfig } from './keepalived-validate.js';
import { KeyedLock } from './keyed-lock.js';
import type { LvsListeners } from './lvs-listeners.js';
import type { StateStore } from './state.js';

export interface ListenerModelDeps {
  readonly config: () => AgentConfig;
  readonly paths: Paths;
  readonly runner: ProcessRunner;
  readonly state: StateStore;
  readonly scripts: CheckScripts;
  readonly lvs: LvsListeners;
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

  private render(id: Uuid, listener: Listener): RenderedConfig {
    if (!isLvsProtocol(listener.protocol)) {
      throw new InvalidInput('Invalid request', `${listener.protocol} listeners are rendered into haproxy, which this agent does not run yet`);
    }
    const text = renderLvsConfig(listener, id, this.lvsSettings());
    return { kind: 'keepalived-lvs', path: this.deps.paths.lvsConfig(id), text, etag: md5Hex(text) };
  }

  /** Everything but installing: rules, conflicts, rendering and the real binary's check. */
  async validate(id: Uuid, body: Buffer): Promise<ListenerAnswer> {
    const listener = this.parse(body);
    return this.lock.run('models', async () => {
      this.checkConflicts(id, listener);
      const rendered = this.render(id, listener);
      await this.checkWithBinary(rendered);
      return { listener_id: id, listener, rendered };
    });
  }

  async put(id: Uuid, body: Buffer): Promise<ListenerAnswer> {
    const listener = this.parse(body);
    return this.lock.run('models', async () => {
      this.checkConflicts(id, listener);
      const rendered = this.render(id, listener);
      const { lvs, state } = this.deps;
      // upload validates with keepalived before it replaces anything; then start, or reload a running one
      await lvs.upload(id, Buffer.from(rendered.text));
      await lvs.act(id, 'start');
      await state.update((s) => void (s.listenerModels[id] = { model: listener as unknown as Record<string, unknown>, etag: rendered.etag }));
      return { listener_id: id, listener, rendered };
    });
  }

  async get(id: Uuid): Promise<ListenerAnswer> {
    const listener = this.stored(id);
    if (listener === undefined) throw notFound(id);
    const path = this.deps.paths.lvsConfig(id);
    const text = (await readIfExists(path)) ?? '';
    return { listener_id: id, listener, rendered: { kind: 'keepalived-lvs', path, text, etag: md5Hex(text) } };
  }

  async remove(id: Uuid): Promise<void> {
    await this.lock.run('models', async () => {
      if (this.stored(id) === undefined) throw notFound(id);
      await this.deps.lvs.remove(id);
      await this.forgetLocked(id);
    });
  }

  /** Drops the model of a listener deleted through API 1.0. */
  async forget(id: Uuid): Promise<void> {
    await this.lock.run('models', () => this.forgetLocked(id));
  }

  private async forgetLocked(id: Uuid): Promise<void> {
    await this.deps.state.update((s) => void delete s.listenerModels[id]);
  }

  private async checkWithBinary(rendered: RenderedConfig): Promise<void> {
    const { paths, scripts, runner, log } = this.deps;
    const agent = this.deps.config().amphora_agent;
    await ensureDir(paths.lvsDir);
    // keepalived refuses a MISC_CHECK whose script is missing, and checks nothing in a missing namespace
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
