/**
 * @module test/support/agent-root
 * A temporary root for one agent: `createAgentRoot` writes an amphora-agent.conf that moves every
 * system location the agent writes under the root, with copies of the agent's certificate files
 * there too, so that a test may overwrite them (certificate rotation, PUT /1.0/config). It never
 * touches a system directory; the caller removes the root (`removeDir`).
 */
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makePki, type TestPki } from './test-pki.js';

/** `{section: {option: value}}` merged over the generated configuration. */
export type ConfOverrides = Readonly<Record<string, Readonly<Record<string, string>>>>;

export interface AgentRoot {
  /** The temporary root: every path the agent writes is under it. */
  readonly dir: string;
  readonly pki: TestPki;
  readonly configFile: string;
  /** The agent's own copy of server.pem (`agent_server_cert`), which rotation overwrites. */
  readonly certFile: string;
  readonly caFile: string;
  /** `bind_port` as written (0 lets the kernel choose; read the real one from the agent). */
  readonly port: number;
  /** A path under the root. */
  at(relative: string): string;
  /** The configuration text for these paths with other overrides (the file is not touched). */
  render(overrides?: ConfOverrides): string;
}

export interface AgentRootOptions {
  /** Reuse a PKI (gen-certs.sh is slow); by default one is made inside the root. */
  readonly pki?: TestPki;
  /** Defaults to 0 (any free port). */
  readonly port?: number;
  readonly overrides?: ConfOverrides;
  /** The parent of the temporary root; defaults to the OS temp dir. */
  readonly parent?: string | undefined;
}

/** The directories the generated configuration names; all are created. */
const DIRS = ['etc/octavia/certs', 'etc/octavia/interfaces', 'var/lib/octavia/certs', 'usr/lib/systemd/system', 'etc/init.d', 'etc/init'];

export function renderConf(root: string, pki: TestPki, port: number, overrides: ConfOverrides = {}): string {
  const at = (p: string) => join(root, p);
  const sections: Record<string, Record<string, string>> = {
    DEFAULT: { debug: 'False' },
    haproxy_amphora: {
      base_path: at('var/lib/octavia'),
      base_cert_dir: at('var/lib/octavia/certs'),
      bind_host: '127.0.0.1',
      bind_port: String(port),
    },
    amphora_agent: {
      agent_server_cert: at('etc/octavia/certs/server.pem'),
      agent_server_ca: at('etc/octavia/certs/client_ca.pem'),
      agent_server_network_dir: at('etc/octavia/interfaces'),
      agent_tls_protocol: 'TLSv1.2',
      amphora_id: pki.amphoraId,
      init_system: 'direct',
      systemd_unit_dir: at('usr/lib/systemd/system'),
      sysvinit_dir: at('etc/init.d'),
      upstart_dir: at('etc/init'),
      haproxy_user_group_file: at('var/lib/octavia/haproxy-default-user-group.conf'),
      plugged_interfaces_file: at('var/lib/octavia/plugged_interfaces'),
      // proc_dir stays /proc: it is only read (GET /1.0/details), never written.
    },
    controller_worker: { loadbalancer_topology: 'SINGLE' },
  };
  for (const [section, options] of Object.entries(overrides)) sections[section] = { ...(sections[section] ?? {}), ...options };
  return Object.entries(sections)
    .map(([section, options]) => `[${section}]\n${Object.entries(options).map(([k, v]) => `${k} = ${v}`).join('\n')}\n`)
    .join('\n');
}

export async function createAgentRoot(options: AgentRootOptions = {}): Promise<AgentRoot> {
  const dir = await mkdtemp(join(options.parent ?? tmpdir(), 'amphora-agent-test-'));
  const at = (p: string) => join(dir, p);
  for (const d of DIRS) await mkdir(at(d), { recursive: true });
  const pki = options.pki ?? (await makePki(at('pki')));
  const certFile = at('etc/octavia/certs/server.pem');
  const caFile = at('etc/octavia/certs/client_ca.pem');
  await copyFile(pki.serverPem, certFile);
  await copyFile(pki.clientCaPem, caFile);
  const port = options.port ?? 0;
  const configFile = at('etc/octavia/amphora-agent.conf');
  await writeFile(configFile, renderConf(dir, pki, port, options.overrides), { mode: 0o600 });
  return { dir, pki, configFile, certFile, caFile, port, at, render: (o) => renderConf(dir, pki, port, { ...options.overrides, ...o }) };
}

export async function removeDir(dir: string | undefined): Promise<void> {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
}
