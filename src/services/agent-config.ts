/**
 * @module services/agent-config
 * The live agent configuration and PUT /1.0/config. An uploaded file is parsed and validated
 * first (400 with the parse error), then replaces the first --config-file the agent was started
 * with (the reference overwrites whichever file oslo finds first), and is applied in process:
 * log level, topology, TLS material and timeouts at once; the startup options (config/startup.ts:
 * the listening socket, directories, the daemon binaries) keep the values the agent started with
 * until it starts again, and the answer names those whose new value waits for that restart.
 * Replacements run one at a time, in arrival order: two at once could otherwise leave the file
 * holding one and the running agent applying the other (each writes, then applies, with awaits
 * between), and the file is what the next start reads.
 */
import type { Logger } from '../log.js';
import { parseConfig, readConfigFiles, type LoadedConfig } from '../config/load.js';
import type { AgentConfig } from '../config/schema.js';
import { startupOptionNames, withStartupValues } from '../config/startup.js';
import { ConfigError, ConfigRejected } from '../model/errors.js';
import { writeFileAtomic } from '../system/files.js';
import { KeyedLock } from './keyed-lock.js';

export type ConfigListener = (next: AgentConfig, previous: AgentConfig) => Promise<void> | void;
/** Who sent the new configuration: the client certificate chain of the request (DER, client's first), when it came over TLS. */
export interface ConfigRequester {
  readonly certificates: readonly Buffer[];
}
/** Throws a `ConfigError` when `next` cannot be applied (e.g. unreadable TLS files); runs before anything is written. */
export type ConfigCheck = (next: AgentConfig, requester: ConfigRequester | undefined) => Promise<void> | void;

/**
 * Options read once at startup (config/startup.ts): a change waits for the next start. Every
 * other option is read live, where it is used, so a change applies from the next request.
 */
const AT_STARTUP = new Set(startupOptionNames());

export function changedOptions(a: AgentConfig, b: AgentConfig): string[] {
  const out: string[] = [];
  for (const section of Object.keys(a) as (keyof AgentConfig)[]) {
    const sa = a[section] as Record<string, unknown>;
    const sb = b[section] as Record<string, unknown>;
    for (const option of Object.keys(sa)) {
      if (JSON.stringify(sa[option]) !== JSON.stringify(sb[option])) out.push(`${section}.${option}`);
    }
  }
  return out;
}

export class AgentConfigService {
  /** What the agent started from: its startup options hold until the next start. */
  private readonly started: AgentConfig;
  private applied: AgentConfig;
  private readonly listeners: ConfigListener[] = [];
  private readonly checks: ConfigCheck[] = [];
  private readonly lock = new KeyedLock();

  constructor(
    private readonly files: readonly string[],
    initial: LoadedConfig,
    private readonly log: Logger,
  ) {
    this.started = initial.config;
    this.applied = initial.config;
  }

  /** The configuration the running agent applies: the latest file's live options, the startup ones as started. */
  get current(): AgentConfig {
    return this.applied;
  }

  onChange(listener: ConfigListener): void {
    this.listeners.push(listener);
  }

  /** Checks a new configuration must pass before it replaces the file (400 otherwise). */
  check(check: ConfigCheck): void {
    this.checks.push(check);
  }

  /**
   * Checks, writes and applies `text`; returns the startup options whose value in it differs from
   * the one the agent started with (a restart applies them; a file sent again names them again).
   */
  replace(text: string, requester?: ConfigRequester): Promise<string[]> {
    return this.lock.run('config', () => this.replaceNow(text, requester));
  }

  private async replaceNow(text: string, requester: ConfigRequester | undefined): Promise<string[]> {
    const [target, ...others] = this.files;
    if (target === undefined) throw new Error('the agent was started without a configuration file');
    let next: LoadedConfig;
    try {
      next = parseConfig([{ path: target, text }, ...(await readConfigFiles(others))]);
      // A file that parses but cannot be applied would stop the agent at its next start.
      for (const check of this.checks) await check(next.config, requester);
    } catch (err) {
      if (err instanceof ConfigError) throw new ConfigRejected('Invalid configuration', err.message, err);
      throw err;
    }
    await writeFileAtomic(target, text, 0o600);
    const previous = this.applied;
    this.applied = withStartupValues(next.config, this.started);
    for (const listener of this.listeners) await listener(this.applied, previous);
    const pending = changedOptions(this.started, next.config).filter((o) => AT_STARTUP.has(o));
    this.log.info({ file: target, pendingRestart: pending, unknown: next.unknown }, 'configuration replaced');
    return pending;
  }
}
