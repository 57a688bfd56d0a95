/**
 * @module test/support/octavia-haproxy
 * A load balancer's combined haproxy config as Octavia's own templater renders it
 * (octavia-haproxy-render.py under the system python3, where python3-octavia is installed), and
 * the crt-list the controller uploads beside a TERMINATED_HTTPS listener's certificate.
 */
import { fileURLToPath } from 'node:url';
import { sh, show } from './commands.js';
import { SYSTEM_PYTHON } from './octavia-templaters.js';

const RENDER_SCRIPT = fileURLToPath(new URL('./octavia-haproxy-render.py', import.meta.url));

export interface OctaviaHaproxyListener {
  readonly id: string;
  readonly protocol: 'HTTP' | 'TCP' | 'TERMINATED_HTTPS';
  readonly port: number;
  readonly pool_id: string;
  /** -1 or absent: Octavia's default_connection_limit (50000). */
  readonly connection_limit?: number;
  /** `enabled: false`: a disabled member (Octavia renders its server `disabled`). */
  readonly members: readonly { readonly id: string; readonly address: string; readonly port: number; readonly weight?: number; readonly enabled?: boolean }[];
  /** A pool health monitor (fall/rise: Octavia's fall_threshold/rise_threshold); absent: none. */
  readonly health_monitor?: { readonly id: string; readonly type: 'TCP' | 'HTTP'; readonly delay: number; readonly timeout: number; readonly fall: number; readonly rise: number };
}

export interface OctaviaHaproxySpec {
  readonly base_path: string;
  readonly base_cert_dir: string;
  readonly amphora_id: string;
  readonly lb_id: string;
  readonly vip: string;
  readonly listeners: readonly OctaviaHaproxyListener[];
}

export async function renderOctaviaHaproxy(spec: OctaviaHaproxySpec): Promise<string> {
  const r = await sh(SYSTEM_PYTHON, [RENDER_SCRIPT], { input: JSON.stringify(spec) });
  if (r.code !== 0) throw new Error(`octavia-haproxy-render.py failed: ${show(r)}`);
  return r.stdout;
}

/** The controller's crt-list for a listener: one line per certificate file, by its full path. */
export const crtList = (files: readonly string[]): string => `${files.join('\n')}\n`;
