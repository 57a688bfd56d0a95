/**
 * @module system/files
 * File writes that never leave a half-written file: temp file in the same directory, fsync,
 * rename over the target, fsync the directory. Modes are always explicit. The one in-place
 * write is for kernel control files (`writeExistingFile`), which are not data.
 *
 * No link is followed where the agent writes as root (issue 14, fault 10): temp files are
 * created exclusively (O_EXCL) and renamed over the target (a link there is replaced, not
 * followed); logs are opened with O_NOFOLLOW (`NO_FOLLOW`, `prepareLogFile`). The temp files a
 * crash left behind (full copies of a private key among them) are recognised by their name
 * (`removeAtomicTempFiles`), and `directoryProblems` says why a directory is unsafe to write in.
 */
import { randomBytes } from 'node:crypto';
import { constants, readFileSync } from 'node:fs';
import { access, chmod, lstat, mkdir, open, readdir, readFile, rename, rm, rmdir, unlink } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';

export async function ensureDir(path: string, mode = 0o755): Promise<void> {
  await mkdir(path, { recursive: true, mode });
}

/** The name `writeFileAtomic` gives its temp file: `.<name>.<12 hex digits>.tmp`, beside the target. */
const TEMP_NAME = /^\..+\.[0-9a-f]{12}\.tmp$/;

export async function writeFileAtomic(path: string, data: string | Uint8Array, mode: number): Promise<void> {
  const dir = dirname(path);
  await ensureDir(dir);
  const temp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', mode);
  try {
    await handle.writeFile(data);
    await handle.chmod(mode); // the umask may have narrowed the mode given to open()
    await handle.sync();
  } catch (err) {
    await handle.close();
    await rm(temp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  const dirHandle = await open(dir, 'r');
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}

/** The file's text, or `undefined` when it does not exist (any other error is thrown). */
export async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * `readIfExists` without the thread-pool round trip, for files of a few bytes read often (pid
 * files, system/processes.ts). A path through a non-directory (ENOTDIR) is missing too.
 */
export function readIfExistsSync(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/** Writes `content` atomically only when it differs from what is there; returns whether it wrote. */
export async function writeIfChanged(path: string, content: string, mode: number): Promise<boolean> {
  if ((await readIfExists(path)) === content) {
    await chmod(path, mode);
    return false;
  }
  await writeFileAtomic(path, content, mode);
  return true;
}

export async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** Removes a file; "already gone" is not an error. */
export async function removeFile(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
}

/** Removes an empty directory; "already gone" is not an error, one that is not empty is kept. */
export async function removeEmptyDir(path: string): Promise<void> {
  try {
    await rmdir(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTEMPTY' || code === 'EEXIST') return;
    throw err;
  }
}

/** The file's bytes, or `undefined` when it does not exist (any other error is thrown). */
export async function readBytesIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Removes a directory and everything in it; "already gone" is not an error. */
export async function removeTree(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
}

/**
 * Writes `data` into a file that must already exist, in place (no temp file, no create):
 * for kernel control files such as sysfs's, which cannot be renamed over and are write-only
 * (so opened write-only). Returns false when there is no such file.
 */
export async function writeExistingFile(path: string, data: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, constants.O_WRONLY);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  try {
    await handle.write(data);
  } finally {
    await handle.close();
  }
  return true;
}

/** Flags for opening a file the agent writes as root: a link at its name is an error (ELOOP), never followed. */
export const NO_FOLLOW = constants.O_NOFOLLOW;

/**
 * Creates a daemon's console log if missing, as a regular file, before any init system opens it
 * for the daemon (systemd's `append:`, the scripts' `>>`, the direct adapter): a link planted at
 * its name is refused instead of followed. Throws an Error naming the link.
 */
export async function prepareLogFile(path: string, mode = 0o644): Promise<void> {
  let handle;
  try {
    handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | NO_FOLLOW, mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw new Error(`${path} is a symbolic link: refusing to follow it as root`, { cause: err });
    throw err;
  }
  await handle.close();
}

/**
 * Removes the temp files `writeFileAtomic` left in `dir` when the agent died between creating
 * and renaming them; only names it makes. Returns what it removed; a missing dir has none.
 */
export async function removeAtomicTempFiles(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw err;
  }
  const removed: string[] = [];
  for (const name of names.filter((n) => TEMP_NAME.test(n))) {
    // unlink removes a link itself, never what it points to
    await removeFile(join(dir, name));
    removed.push(join(dir, name));
  }
  return removed;
}

/** The subdirectories of `dir` (not links to directories); none when it is missing. */
export async function subdirectories(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => join(dir, e.name));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw err;
  }
}

/**
 * Why `dir` is unsafe for root to write in: a symbolic link, owned by anyone but root or `uid`
 * (the agent's), or writable by group or others (anyone could plant a link there). Empty when
 * it is safe or missing.
 */
export async function directoryProblems(dir: string, uid: number): Promise<string[]> {
  let s;
  try {
    s = await lstat(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  if (s.isSymbolicLink()) return [`${dir} is a symbolic link`];
  if (!s.isDirectory()) return [`${dir} is not a directory`];
  const problems: string[] = [];
  if (s.uid !== 0 && s.uid !== uid) problems.push(`${dir} is owned by uid ${s.uid}, not root or the agent (uid ${uid})`);
  if ((s.mode & 0o022) !== 0) problems.push(`${dir} is writable by group or others (mode ${(s.mode & 0o7777).toString(8)})`);
  return problems;
}
