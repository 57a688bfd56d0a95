/**
 * @module test/image/lib/inputs-hash
 * The fingerprint of everything an image is made from, so that a finished image is reused
 * when none of it changed: the element folders, what the packed agent is made from (the caller
 * names src/, templates/, init-scripts/, package.json: dist/ is built from them by the locked
 * toolchain, so no build is needed to know whether the package changed), the lock file its
 * dependencies come from, the build scripts themselves, DIB's version, the release, the element
 * list and any Node.js tarball given. Apt mirrors are left out on purpose: the same packages
 * come from any mirror, and a newer Debian point release is picked up with `--force`.
 * Must not: write anything.
 */
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Feeds every file under `dir` (path, mode, content or link target) into `hash`, in a stable order. */
function hashTree(hash, dir, label) {
  const walk = (d) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      const rel = relative(dir, p);
      if (st.isDirectory()) {
        walk(p);
      } else if (st.isSymbolicLink()) {
        hash.update(`${label}/${rel} -> ${readlinkSync(p)}\n`);
      } else if (st.isFile()) {
        hash.update(`${label}/${rel} ${(st.mode & 0o777).toString(8)} ${st.size}\n`);
        hash.update(readFileSync(p));
      }
    }
  };
  walk(dir);
}

/** Hex digest of the inputs; `parts` names what went in (for the build record). */
export function inputsHash({ release, dibVersion, elements, elementDirs, scriptFiles, lockFile, nodeTarball, extra = {} }) {
  const hash = createHash('sha256');
  const parts = [];
  const add = (label, value) => {
    hash.update(`${label}=${value}\n`);
    parts.push(label);
  };
  add('release', release);
  add('dib', dibVersion);
  add('elements', elements.join(' '));
  for (const [k, v] of Object.entries(extra).sort()) add(k, String(v));
  for (const dir of elementDirs) {
    hashTree(hash, dir, dir);
    parts.push(dir);
  }
  for (const f of scriptFiles) {
    hash.update(`script ${f}\n`);
    hash.update(readFileSync(f));
    parts.push(f);
  }
  if (lockFile && existsSync(lockFile)) {
    hash.update(readFileSync(lockFile));
    parts.push(lockFile);
  }
  if (nodeTarball) {
    hash.update(readFileSync(nodeTarball));
    parts.push(nodeTarball);
  }
  return { hash: hash.digest('hex'), parts };
}
