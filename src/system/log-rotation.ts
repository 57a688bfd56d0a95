/**
 * @module system/log-rotation
 * Copy-truncate rotation of a log that a running daemon appends to (keepalived's and haproxy's
 * console output, `<unit>.log`), and removal of a log with its rotated generations. The daemon
 * keeps its descriptor: every supervisor opens the log with O_APPEND (systemd `append:`, the
 * sysvinit and upstart `>>`, the `direct` adapter's own open), so after the truncation its next
 * write lands at the new end, offset 0, and leaves no sparse hole. Renaming the live file
 * instead would leave the daemon writing into the rotated one.
 * Lines the daemon writes between the end of the copy and the truncation are lost: the copy
 * reads on until it finds no more data and truncates right after, so that window is the time
 * of one empty read. Generation names come from the caller (`Paths.rotatedLog`).
 * Must not: decide when to rotate or which logs exist (the jobs do).
 */
import { constants } from 'node:fs';
import { open, rename, stat } from 'node:fs/promises';
import { removeFile } from './files.js';

/** Where a log's rotated copies go: `generation(1)` is the newest. */
export type GenerationName = (generation: number) => string;

export interface LogRotation {
  /** Rotated copies kept (`.1` … `.keep`); 0 truncates without a copy. */
  readonly keep: number;
  /** Generations up to this number are removed when they are beyond `keep` (a lowered option). */
  readonly maxGenerations: number;
  readonly generation: GenerationName;
}

const CHUNK = 64 * 1024;

/**
 * How far past the size seen when the copy began the copy follows a writer before it truncates
 * anyway: a daemon that writes faster than the disk copies must not hold the rotation forever
 * (what it wrote beyond that is lost with the truncation).
 */
const CATCH_UP_LIMIT = 4 * 1024 * 1024;

/** The size of a file, or undefined when there is none. */
export async function fileSize(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Moves `.n` to `.n+1` from the oldest kept one down, so `.keep` (the oldest) is replaced; drops any beyond `keep`. */
async function shiftGenerations(rotation: LogRotation): Promise<void> {
  const { keep, maxGenerations, generation } = rotation;
  for (let n = keep + 1; n <= maxGenerations; n++) await removeFile(generation(n));
  for (let n = keep - 1; n >= 1; n--) {
    try {
      await rename(generation(n), generation(n + 1));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}

/**
 * Copies the live log into `target` and truncates the live log to zero through the same
 * descriptor (the same inode, whatever happens to its name). Returns the bytes copied.
 */
async function copyThenTruncate(file: string, target: string | undefined): Promise<number | undefined> {
  let live;
  try {
    // r+: ftruncate needs write access; no O_CREAT, no O_APPEND
    live = await open(file, constants.O_RDWR | constants.O_NOFOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const { size, mode } = await live.stat();
    let copied = 0;
    if (target !== undefined) {
      const copy = await open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, mode & 0o777);
      try {
        const buffer = Buffer.alloc(CHUNK);
        for (;;) {
          const { bytesRead } = await live.read(buffer, 0, CHUNK, copied);
          if (bytesRead === 0 || copied > size + CATCH_UP_LIMIT) break;
          await copy.write(buffer, 0, bytesRead);
          copied += bytesRead;
        }
      } finally {
        await copy.close();
      }
    }
    await live.truncate(0);
    return target === undefined ? size : copied;
  } finally {
    await live.close();
  }
}

/**
 * Rotates `file` (copy-truncate, see the module comment): the generations shift, the live log
 * is copied to `generation(1)` and truncated in place. Returns the bytes moved out of the live
 * log, or undefined when there is no such file.
 */
export async function rotateLog(file: string, rotation: LogRotation): Promise<number | undefined> {
  if ((await fileSize(file)) === undefined) return undefined;
  await shiftGenerations(rotation);
  return copyThenTruncate(file, rotation.keep > 0 ? rotation.generation(1) : undefined);
}

/** Removes a log and its rotated generations; "already gone" is fine. */
export async function removeLog(file: string, generation: GenerationName, maxGenerations: number): Promise<void> {
  await removeFile(file);
  for (let n = 1; n <= maxGenerations; n++) await removeFile(generation(n));
}
