/**
 * @module config/startup
 * Which options the agent reads once, at startup, and which it reads live. The startup ones
 * place things (the listening socket, the log file, every directory, the namespace, unit names,
 * the init adapter): changing them under running daemons would orphan what they placed, so a new
 * value waits for the next start. `StartupConfig` is all the code that runs at startup may read
 * (createPaths, the init detection, the listener, the logger); `LiveConfig` is what services
 * read through the live getter, and it has none of these options: the compiler keeps the two
 * apart, and `PUT /1.0/config` derives "takes effect at the next restart" from this one table,
 * comparing the new file with the one the agent started from (`withStartupValues` keeps the
 * startup values in what the running agent applies, whatever reads it).
 * Live on purpose: the other command options (`ip_cmd`, `tc_cmd`, `nft_cmd`, `ipvsadm_cmd`) run a
 * tool that finishes within the request or sample that runs it, so no running process keeps the
 * old value; `sctp_check_cmd` reaches the next config rendered; timeouts, the log facility and the
 * TLS material apply from their next use. Nothing running is tied to their previous value.
 */
import type { AgentConfig } from './schema.js';

export const STARTUP_OPTIONS = {
  DEFAULT: ['log_file'],
  // haproxy_cmd: the daemon binary (see keepalived_cmd below)
  haproxy_amphora: ['base_path', 'bind_host', 'bind_port', 'base_cert_dir', 'haproxy_cmd'],
  amphora_agent: [
    'init_system', 'network_namespace', 'unit_name_prefix', 'systemd_unit_dir', 'sysvinit_dir', 'upstart_dir', 'proc_dir', 'netns_run_dir',
    // plug's PCI rescan file (paths.ts)
    'sys_dir',
    // place files running haproxys read (their certificates, their group): paths.ts
    'haproxy_user_group_file',
    // the daemon binaries (paths.ts): the binary that validates a config must be the one that
    // loads it, and running daemons reload with the binary they were started from (keepalived on
    // SIGHUP, haproxy's master re-executing its own argv on SIGUSR2); the reference reads them once
    'keepalived_cmd',
  ],
  // the metrics listener's socket (main.ts starts it once)
  prometheus: ['enabled', 'bind_host', 'bind_port', 'tls', 'client_ca'],
} as const satisfies { readonly [S in keyof AgentConfig]?: readonly (keyof AgentConfig[S])[] };

type Sections = typeof STARTUP_OPTIONS;
type StartupKeys<S> = S extends keyof Sections ? Sections[S][number] : never;

/** The options read once at startup. */
export type StartupConfig = { readonly [S in keyof Sections]: Pick<AgentConfig[S], StartupKeys<S> & keyof AgentConfig[S]> };

/** Every other option: what services read through the live getter, at the moment they need it. */
export type LiveConfig = { readonly [S in keyof AgentConfig]: Omit<AgentConfig[S], StartupKeys<S>> };

/**
 * `next` with every startup option at its value in `started`: the configuration the running agent
 * applies after `PUT /1.0/config` wrote `next`, until the restart that reads the file again.
 */
export function withStartupValues(next: AgentConfig, started: AgentConfig): AgentConfig {
  const out: Record<string, Record<string, unknown>> = {};
  for (const section of Object.keys(next) as (keyof AgentConfig)[]) {
    const pinned = (STARTUP_OPTIONS as Partial<Record<keyof AgentConfig, readonly string[]>>)[section] ?? [];
    const values: Record<string, unknown> = { ...next[section] };
    for (const option of pinned) values[option] = (started[section] as Record<string, unknown>)[option];
    out[section] = values;
  }
  return out as AgentConfig;
}

/** `section.option` names of the startup options. */
export const startupOptionNames = (): string[] =>
  Object.entries(STARTUP_OPTIONS).flatMap(([section, options]) => options.map((o: string) => `${section}.${o}`));
