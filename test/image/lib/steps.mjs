/**
 * @module test/image/lib/steps
 * Small steps of the image build around DIB: packing the agent, the CA file npm on the build
 * host must trust, the folders the agent package is made from, and waiting until no other DIB
 * build runs on this machine (two at once would each take twice as long and share its loop
 * devices and caches).
 * Must not: run DIB.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** `npm pack` of the repository into `dir` (after `npm run build`); the .tgz's path. */
export function packAgent(repo, dir) {
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const [entry] = JSON.parse(out);
  if (!entry?.filename) throw new Error(`npm pack said nothing about its tarball: ${out.slice(0, 300)}`);
  return join(dir, entry.filename);
}

/** What the packed agent is made from: dist/ is built from src/; templates/ and init-scripts/ are shipped. */
export function sourceDirs(repo) {
  return ['src', 'templates', 'init-scripts'].map((d) => join(repo, d));
}

/**
 * The CA bundle npm on the build host uses to reach the registry: npm's own `cafile` setting,
 * else NODE_EXTRA_CA_CERTS, else the system bundle, so that the element's host-side `npm ci`
 * trusts what this machine trusts (e.g. a TLS-intercepting proxy's CA).
 */
export function npmCaFile() {
  let configured = '';
  try {
    configured = execFileSync('npm', ['config', 'get', 'cafile'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    /* no npm config: fall through */
  }
  for (const f of [configured, process.env.NODE_EXTRA_CA_CERTS, '/etc/ssl/certs/ca-certificates.crt']) {
    if (f && f !== 'null' && f !== 'undefined' && existsSync(f)) return f;
  }
  return undefined;
}

/** True while a disk-image-create runs on this machine (anyone's). */
function otherDibRunning() {
  try {
    execFileSync('pgrep', ['-f', 'disk-image-create'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Waits (until `deadline`) for other DIB builds to end; the seconds it waited. */
export async function whileNoOtherDib(deadline, log) {
  const start = Date.now();
  let said = false;
  while (otherDibRunning()) {
    if (Date.now() > deadline) throw new Error('another disk-image-create kept running until the time limit: not started');
    if (!said) log('another disk-image-create runs on this machine: waiting for it to end');
    said = true;
    await sleep(5000);
  }
  return Math.round((Date.now() - start) / 1000);
}
