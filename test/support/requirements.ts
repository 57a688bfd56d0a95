/**
 * What a test tier needs, and an honest skip when this machine lacks it. Under CI (CI=true)
 * a missing requirement is an error, because .ci/run installs everything: nothing may skip there.
 */
import { accessSync, constants } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { delimiter, join } from 'node:path';

export interface Requirement {
  readonly root?: boolean;
  readonly binaries?: readonly string[];
  /** A Python module importable by /usr/bin/python3, e.g. 'octavia'. */
  readonly python?: string;
  readonly files?: readonly string[];
}

function onPath(binary: string): boolean {
  const dirs = (process.env['PATH'] ?? '').split(delimiter).concat(['/usr/sbin', '/sbin']);
  return dirs.some((d) => {
    try {
      accessSync(join(d, binary), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export function missing(req: Requirement): string[] {
  const out: string[] = [];
  if (req.root && process.getuid?.() !== 0) out.push('root');
  for (const b of req.binaries ?? []) if (!onPath(b)) out.push(`binary '${b}'`);
  for (const f of req.files ?? []) {
    try {
      accessSync(f);
    } catch {
      out.push(`file ${f}`);
    }
  }
  if (req.python) {
    try {
      execFileSync('/usr/bin/python3', ['-c', `import ${req.python}`], { stdio: 'ignore' });
    } catch {
      out.push(`python module '${req.python}' for /usr/bin/python3`);
    }
  }
  return out;
}

/**
 * Returns true when the tier can run. Otherwise prints why it is skipped (or, under CI,
 * throws so that the run fails).
 */
export function tierCanRun(tier: string, req: Requirement): boolean {
  const lacking = missing(req);
  if (lacking.length === 0) return true;
  const reason = `${tier}: needs ${lacking.join(', ')}`;
  if (process.env['CI'] === 'true') throw new Error(`${reason} (CI must install it: see .ci/run)`);
  process.stderr.write(`SKIP ${reason}\n`);
  return false;
}
