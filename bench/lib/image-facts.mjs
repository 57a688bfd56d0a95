/**
 * @module bench/lib/image-facts
 * What the image suite reads from a built image without booting it: its sizes (the qcow2 file,
 * the tar, and the root filesystem's bytes, the sum of the regular files the tar holds) and the
 * versions of what matters in it (the agent, keepalived, haproxy, the kernel, from the image's
 * own dpkg status and the agent's package.json). Both images are read the same way.
 */
import { stat } from 'node:fs/promises';
import { runCommand } from './processes.mjs';

async function tarOut(tar, args) {
  const r = await runCommand('tar', ['-f', tar, ...args]);
  if (r.code !== 0) throw new Error(`tar ${args.join(' ')} on ${tar} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** { qcow2_bytes, tar_bytes, rootfs_bytes, rootfs_files } */
export async function imageSizes({ qcow2, tar }) {
  const listing = await tarOut(tar, ['-tv']);
  let bytes = 0;
  let files = 0;
  for (const line of listing.split('\n')) {
    if (!line.startsWith('-')) continue; // regular files only: links and directories hold no data
    const size = Number(line.trim().split(/\s+/)[2]);
    if (Number.isFinite(size)) bytes += size;
    files += 1;
  }
  return { qcow2_bytes: (await stat(qcow2)).size, tar_bytes: (await stat(tar)).size, rootfs_bytes: bytes, rootfs_files: files };
}

/** One file of the image's tar (members may be stored as `./path` or `path`), or null. */
async function fileInTar(tar, path) {
  for (const name of [`./${path}`, path]) {
    const r = await runCommand('tar', ['-xOf', tar, name]);
    if (r.code === 0) return r.stdout;
  }
  return null;
}

/** { package: version } of the packages dpkg lists as installed. */
export function installedPackages(status) {
  const found = {};
  for (const stanza of status.split(/\n\n+/)) {
    const name = stanza.match(/^Package: (\S+)/m)?.[1];
    const version = stanza.match(/^Version: (\S+)/m)?.[1];
    if (name && version && /^Status: install ok installed$/m.test(stanza)) found[name] = version;
  }
  return found;
}

/**
 * The versions the report shows: agent (ours: the npm package; the reference: octavia-agent),
 * keepalived, haproxy, kernel (the installed linux-image package), nodejs/python3, cloud-init,
 * and how many packages the image has.
 */
export async function imageVersions(tar) {
  const status = await fileInTar(tar, 'var/lib/dpkg/status');
  if (status === null) throw new Error(`${tar} has no var/lib/dpkg/status`);
  const pkgs = installedPackages(status);
  const ourPackage = await fileInTar(tar, 'usr/local/lib/node_modules/amphora-agent/package.json');
  const kernel = Object.keys(pkgs).find((p) => /^linux-image-\d/.test(p));
  return {
    agent: ourPackage ? `amphora-agent ${JSON.parse(ourPackage).version}` : pkgs['octavia-agent'] ? `octavia-agent ${pkgs['octavia-agent']}` : null,
    keepalived: pkgs.keepalived ?? null,
    haproxy: pkgs.haproxy ?? null,
    kernel: kernel ? `${kernel} ${pkgs[kernel]}` : null,
    runtime: pkgs.nodejs ? `nodejs ${pkgs.nodejs}` : pkgs.python3 ? `python3 ${pkgs.python3}` : null,
    cloud_init: pkgs['cloud-init'] ?? null,
    packages: Object.keys(pkgs).length,
  };
}
