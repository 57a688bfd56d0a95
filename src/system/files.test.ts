import { mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readIfExists, writeFileAtomic } from './files.js';

describe('writeFileAtomic', () => {
  it('replaces the file with the exact mode and leaves no temp file behind', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'files-'));
    const target = join(dir, 'sub', 'server.pem');
    await writeFileAtomic(target, 'one', 0o644);
    await writeFileAtomic(target, 'two', 0o600);
    expect(await readFile(target, 'utf8')).toBe('two');
    expect((await stat(target)).mode & 0o777).toBe(0o600);
    expect(await readdir(join(dir, 'sub'))).toEqual(['server.pem']);
  });

  it('keeps the old content when the write fails', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'files-'));
    const target = join(dir, 'a.conf');
    await writeFile(target, 'old');
    // a directory in place of the target makes rename() fail after the temp file was written
    await expect(writeFileAtomic(join(dir), 'new', 0o600)).rejects.toThrow();
    expect(await readFile(target, 'utf8')).toBe('old');
    expect(await readdir(dir)).toEqual(['a.conf']);
  });
});

describe('readIfExists', () => {
  it('returns undefined only for a missing file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'files-'));
    expect(await readIfExists(join(dir, 'none'))).toBeUndefined();
    await expect(readIfExists(dir)).rejects.toThrow();
  });
});
