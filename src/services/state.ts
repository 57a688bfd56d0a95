/**
 * @module services/state
 * The typed registry of what the agent was sent: LVS listeners, haproxy load balancers, the
 * VRRP keepalived and the listener models of API 2.0, saved as JSON under base_path. The agent
 * answers from here instead of re-discovering objects by globbing files or regex-parsing
 * configs as the reference does. Each managed config is known by the content hash
 * (services/digest.ts) of what is installed and of what its daemon has loaded: the one
 * change-detection rule for every daemon.
 */
import { z } from 'zod';
import { LvsLayout } from '../model/lvs-layout.js';
import { readIfExists, writeFileAtomic } from '../system/files.js';
import { KeyedLock } from './keyed-lock.js';

/** What the agent knows of a keepalived LVS config without reading it again. */
const LvsConfigFacts = z.object({
  hash: z.string(),
  /** A config without virtual servers (no pool, or listener disabled) leaves keepalived idle. */
  virtualServers: z.boolean(),
  /** What the heartbeat reads of it (model/lvs-layout.ts); absent in older state: read from the file. */
  layout: LvsLayout.optional(),
});

const LvsListener = z.preprocess(
  // state files of agents before the installed/applied split
  (v) => {
    const o = v as Record<string, unknown> | null;
    if (o === null || typeof o !== 'object' || 'applied' in o) return v;
    const hash = typeof o['appliedHash'] === 'string' ? o['appliedHash'] : null;
    return { ...o, applied: hash === null ? null : { hash, virtualServers: o['hasVirtualServer'] === true } };
  },
  z.object({
    id: z.string(),
    /** Whether the operator or controller wants it running (false after an explicit stop). */
    wantRunning: z.boolean(),
    /** 'UDP' or 'SCTP', of the installed config. */
    protocol: z.enum(['UDP', 'SCTP']).default('UDP'),
    /** The installed config (null: unknown, from an older agent: read from disk once). */
    installed: LvsConfigFacts.nullable().default(null),
    /** The config the running keepalived proved it loaded (null: not started, or not proven). */
    applied: LvsConfigFacts.nullable().default(null),
  }),
);

const Vrrp = z.object({
  wantRunning: z.boolean(),
  installedHash: z.string().nullable().default(null),
  appliedHash: z.string().nullable(),
});

const LoadBalancer = z.object({
  id: z.string(),
  wantRunning: z.boolean(),
  /** haproxy frontend (listener) ids of the combined config. */
  listeners: z.array(z.string()),
  installedHash: z.string().nullable().default(null),
  appliedHash: z.string().nullable().default(null),
  /**
   * A config the controller uploaded (API 1.0), as looked at once at upload: the peer name haproxy
   * runs with and each listener's type. null: rendered by the agent from listener models.
   */
  upload: z
    .object({
      peer: z.string(),
      types: z.record(z.string(), z.enum(['HTTP', 'TCP', 'TERMINATED_HTTPS'])),
      /**
       * Its `server-state-file` is the load balancer's servers-state file, which the agent fills
       * before each reload (false: no such directive, or one naming another file; older agents).
       */
      readsServerState: z.boolean().default(false),
    })
    .nullable()
    .default(null),
});

/** A listener the agent rendered itself (API 2.0): the validated model, kept as sent. */
const ListenerModel = z.object({
  model: z.record(z.string(), z.unknown()),
  /** MD5 of the rendered config it was last installed with. */
  etag: z.string(),
});

const StateFile = z.object({
  version: z.literal(1),
  lvsListeners: z.record(z.string(), LvsListener),
  loadBalancers: z.record(z.string(), LoadBalancer),
  vrrp: Vrrp.nullable().default(null),
  listenerModels: z.record(z.string(), ListenerModel).default({}),
});

export type LvsConfigFactsState = z.infer<typeof LvsConfigFacts>;

/** Whether the config a listener's keepalived runs (or is being started with) has virtual servers. */
export const runsVirtualServers = (l: LvsListenerState): boolean => (l.applied ?? l.installed)?.virtualServers ?? false;
export type LvsListenerState = z.infer<typeof LvsListener>;
export type LoadBalancerState = z.infer<typeof LoadBalancer>;
export type HaproxyUploadState = NonNullable<LoadBalancerState['upload']>;
export type VrrpState = z.infer<typeof Vrrp>;
export type AgentState = z.infer<typeof StateFile>;

export const emptyState = (): AgentState => ({ version: 1, lvsListeners: {}, loadBalancers: {}, vrrp: null, listenerModels: {} });

export class StateStore {
  private state: AgentState = emptyState();
  private readonly lock = new KeyedLock();

  constructor(private readonly file: string) {}

  /** Reads the saved registry; a missing file is an empty registry, a corrupt one an error. */
  async load(): Promise<AgentState> {
    const text = await readIfExists(this.file);
    this.state = text === undefined ? emptyState() : StateFile.parse(JSON.parse(text));
    return this.state;
  }

  get current(): Readonly<AgentState> {
    return this.state;
  }

  /** Applies `change` to the latest state and saves it; concurrent updates are serialized. */
  async update(change: (draft: AgentState) => void): Promise<void> {
    await this.lock.run('state', async () => {
      const draft = structuredClone(this.state);
      change(draft);
      if (JSON.stringify(draft) === JSON.stringify(this.state)) return;
      await writeFileAtomic(this.file, `${JSON.stringify(draft, null, 2)}\n`, 0o600);
      this.state = draft;
    });
  }

  /** Sorted ids of every listener the agent manages (haproxy frontends and LVS listeners). */
  listenerIds(): string[] {
    const ids = new Set<string>(Object.keys(this.state.lvsListeners));
    for (const lb of Object.values(this.state.loadBalancers)) for (const id of lb.listeners) ids.add(id);
    return [...ids].sort();
  }
}
