/**
 * @module test/image/lib/rootfs
 * The amphora image's root file system as a directory on this machine, for the VM tiers that
 * boot User-Mode Linux on it (test/e2e/run.mjs --rootfs): diskimage-builder's tar output unpacked
 * once beside the tar, and unpacked again only when the tar changed (its size and mtime are kept in
 * the directory). Owners, modes and device nodes are kept as the image has them: root only.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const STAMP = '.unpacked-from';

/**
 * Resolves to the directory holding the image's root unpacked from `tar` (NAME.tar -> NAME.rootfs/).
 * Asynchronous: test/run-tiers.mjs unpacks while another chain's output flows through it.
 */
export async function unpackRootfs(tar, log = () => {}) {
  const st = statSync(tar);
  const dir = join(dirname(tar), `${basename(tar).replace(/\.tar$/, '')}.rootfs`);
  const want = `${tar} ${st.size} ${st.mtimeMs}\n`;
  if (existsSync(join(dir, STAMP)) && readFileSync(join(dir, STAMP), 'utf8') === want) return dir;
  const t0 = Date.now();
  // unpack next to it, then swap: a run interrupted half-way never leaves a half root behind
  const tmp = `${dir}.partial`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  await promisify(execFile)('tar', ['-xpf', tar, '-C', tmp, '--numeric-owner', '--xattrs', '--xattrs-include=*'], { maxBuffer: 16 * 1024 * 1024 });
  writeFileSync(join(tmp, STAMP), want);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  log(`unpacked ${tar} into ${dir} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return dir;
}
