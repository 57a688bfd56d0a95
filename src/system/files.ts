/**
 * @module system/files
 * File writes that never leave a half-written file: temp file in the same directory, fsync,
 * rename over the target, fsync the directory. Modes are always explicit. The one in-place
 * write is for kernel control files (`writeExistingFile`), which are not data.
 */
import { randomBytes } from 'node:crypto';
import { constants, readFileSync } from 'node:fs';
import { access, chmod, mkdir, open, readFile, rename, rm, rmdir, unlink } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';

export async function ensureDir(path: string, mode = 0o755): Promise<void> {
  await mkdir(path, { recursive: true, mode });
}

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
