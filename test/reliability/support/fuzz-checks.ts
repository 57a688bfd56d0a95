/**
 * @module test/reliability/support/fuzz-checks
 * What the fuzz judges after each request: the answer's class (a 5xx is a failure unless it is
 * keepalived failing for want of IPVS on this host, which the fuzz counts apart), the configs
 * under the root (no directive a request's data does not explain), and the paths written
 * outside the configured roots (from strace's record).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MARKER } from './fuzz-requests.js';

/** This host's kernel has no IPVS: a keepalived with a virtual_server exits, and the agent says so. */
export const isHonestIpvsFailure = (status: number, body: string): boolean => status >= 500 && /IPVS: Can't initialize ipvs/.test(body);

/**
 * A daemon the agent started exited (an accepted config that keepalived or haproxy then could
 * not run, e.g. a mutated VRRP config naming an interface that is not there): a 500 that says
 * which daemon, with the daemon's own log as details, is the honest answer (Octavia's too).
 */
export function isHonestDaemonExit(status: number, body: string): boolean {
  if (status !== 500) return false;
  try {
    const { message, details } = JSON.parse(body) as { message?: string; details?: string };
    return /^(octavia-keepalived\S*|haproxy\S*) (exited during start|is not running after)/.test(message ?? '') && /Keepalived|haproxy|HAProxy/.test(details ?? '');
  } catch {
    return false;
  }
}

/** Every regular file under `dir` whose name says it is a config (keepalived, haproxy), with its text. */
export function configFiles(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(d, n);
      let st;
      try {
        st = statSync(p);
      } catch {
        continue;
      }
      if (st.isDirectory()) walk(p);
      else if (st.isFile() && st.size < 8 * 1024 * 1024 && /\.(cfg|conf)$/.test(n) && !n.endsWith('amphora-agent.conf')) out.set(p, readFileSync(p, 'utf8'));
    }
  };
  walk(dir);
  return out;
}

/** The trimmed non-empty lines of a text. */
const lineSet = (text: string) => new Set(text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean));

/**
 * The lines of a written config that carry the fuzz's marker and that no accepted upload for
 * that file explains: each is a directive the request's data put there.
 */
export function injectedLines(file: string, text: string, explainedBy: readonly string[]): string[] {
  const explained = explainedBy.map(lineSet);
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.includes(MARKER) && !explained.some((set) => set.has(l)))
    .map((l) => `${file}: ${l}`);
}

/**
 * Paths outside `roots` (prefixes) that the agent or its daemons wrote. Counted apart: kernel
 * interfaces (/proc, /sys, /dev's terminals and null), and keepalived's own runtime directory for
 * a namespace (/run/keepalived/<ns>/..., which keepalived makes for any config with
 * net_namespace, whatever the agent says; the agent cannot move it), with /run/keepalived itself,
 * which keepalived creates first on a machine where no keepalived ran yet (CI's fresh machine).
 * Also apart: a path an accepted upload names (`uploads`, the texts the agent accepted). The
 * controller's own keepalived config may run a script (`notify_master "/bin/touch /tmp/…"`, a
 * `vrrp_script`), and keepalived runs it as the controller asked, as the reference's does; the
 * agent installs such a text unchanged (the injection check explains its lines by the same uploads).
 */
export function outsideRoots(written: readonly string[], roots: readonly string[], ns: string, uploads: readonly string[] = []): { outside: string[]; kernel: number; daemonRuntime: number; namedByUploads: number } {
  const outside = new Set<string>();
  let kernel = 0;
  let daemonRuntime = 0;
  let namedByUploads = 0;
  const under = (p: string, r: string) => p === r || p.startsWith(r.endsWith('/') ? r : `${r}/`);
  for (const p of written) {
    if (/^\/(proc|sys)\//.test(p) || /^\/dev\/(null|console|pts\/|ptmx|tty|urandom|random|shm\/)/.test(p)) kernel++;
    else if (under(p, `/run/keepalived/${ns}`) || p.replace(/\/+$/, '') === '/run/keepalived') daemonRuntime++;
    else if (roots.some((r) => under(p, r))) continue;
    else if (uploads.some((u) => u.includes(p))) namedByUploads++;
    else outside.add(p);
  }
  return { outside: [...outside].sort(), kernel, daemonRuntime, namedByUploads };
}
