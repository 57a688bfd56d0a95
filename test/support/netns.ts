/**
 * @module test/support/netns
 * The network namespaces of the integration tests: uniquely named (`aat-<tag>-<hex>`), with
 * veth pairs created directly inside them so that no link ever appears in the host's
 * namespace; the pids and addresses inside one; and its removal with every process in it.
 * It only ever touches namespaces a test named with `uniqueName`.
 */
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { must, sh } from './commands.js';
import { isRunning, killQuietly } from './processes.js';
import { waitFor } from './wait-for.js';

/** `aat-<tag>-<6 hex>`: short (IFNAMSIZ-safe), unique, recognisably a test's. */
export const uniqueName = (tag: string): string => `aat-${tag}-${randomBytes(3).toString('hex')}`;

export async function addNetns(name: string): Promise<void> {
  await must('ip', ['netns', 'add', name]);
  await must('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
}

/** A veth pair named `ifname` on both sides, created inside `a` with its peer inside `b`. */
export async function addVethPair(a: string, b: string, ifname = 'eth1'): Promise<void> {
  await must('ip', ['-n', a, 'link', 'add', ifname, 'type', 'veth', 'peer', 'name', ifname, 'netns', b]);
  await must('ip', ['-n', a, 'link', 'set', ifname, 'up']);
  await must('ip', ['-n', b, 'link', 'set', ifname, 'up']);
}

/** A veth pair with both ends inside `ns` (e.g. eth1 and a spare end), for a namespace that only needs an eth1. */
export async function addLocalVeth(ns: string, ifname: string, peer: string): Promise<void> {
  await must('ip', ['-n', ns, 'link', 'add', ifname, 'type', 'veth', 'peer', 'name', peer]);
}

export async function netnsExists(name: string): Promise<boolean> {
  return stat(`/run/netns/${name}`).then(
    () => true,
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return false;
      throw err;
    },
  );
}

/** Inode of the namespace file: equal to the `net:[inode]` of every process inside it. */
export async function netnsInode(name: string): Promise<number> {
  return (await stat(`/run/netns/${name}`)).ino;
}

/** Pids of the processes inside a namespace (only ever one of the test's own namespaces). */
export async function netnsPids(name: string): Promise<number[]> {
  if (!(await netnsExists(name))) return [];
  const r = await sh('ip', ['netns', 'pids', name]);
  return r.stdout.split(/\s+/).filter((s) => /^\d+$/.test(s)).map(Number);
}

/**
 * Removes one of the test's namespaces: every process inside it gets SIGTERM, then SIGKILL
 * (they are the test's own keepalived: nothing else runs in a namespace named by this run),
 * then the namespace and with it the veth ends inside it.
 */
export async function deleteNetns(name: string): Promise<void> {
  if (!(await netnsExists(name))) return;
  for (const pid of await netnsPids(name)) killQuietly(pid, 'SIGTERM');
  const anyRunning = async () => (await Promise.all((await netnsPids(name)).map(isRunning))).some(Boolean);
  await waitFor(`the processes in ${name} to exit`, async () => !(await anyRunning()), 10_000).catch(async () => {
    for (const pid of await netnsPids(name)) killQuietly(pid, 'SIGKILL');
  });
  await sh('ip', ['netns', 'del', name]);
}

/** IPv4 addresses (without prefix) on `dev` inside `ns`. */
export async function addressesIn(ns: string, dev = 'eth1'): Promise<string[]> {
  const r = await sh('ip', ['-n', ns, '-4', '-o', 'addr', 'show', 'dev', dev]);
  return [...r.stdout.matchAll(/\sinet\s+([0-9.]+)\//g)].map((m) => m[1] ?? '');
}
