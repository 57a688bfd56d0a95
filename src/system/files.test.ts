import { chmodSync, chownSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { directoryProblems, prepareLogFile, readIfExists, removeAtomicTempFiles, writeFileAtomic } from './files.js';

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

describe('link safety and leftovers (issue 14, fault 10)', () => {
  it('prepareLogFile creates a regular file, keeps an existing one, and refuses a link', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'files-links-'));
    const log = join(dir, 'unit.log');
    await prepareLogFile(log);
    await writeFile(log, 'kept\n', { flag: 'a' });
    await prepareLogFile(log);
    expect(readFileSync(log, 'utf8')).toBe('kept\n');
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'secret\n');
    symlinkSync(victim, join(dir, 'linked.log'));
    await expect(prepareLogFile(join(dir, 'linked.log'))).rejects.toThrow(/is a symbolic link: refusing to follow it as root/);
    expect(readFileSync(victim, 'utf8')).toBe('secret\n');
    await rm(dir, { recursive: true, force: true });
  });

  it('removeAtomicTempFiles removes only the names writeFileAtomic makes, links as links', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'files-temp-'));
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'x');
    for (const name of ['.a.conf.0123456789ab.tmp', '.b.pem.ffffffffffff.tmp', '.a.conf.tmp', 'a.conf.0123456789ab.tmp', '.a.conf.0123456789AB.tmp']) writeFileSync(join(dir, name), 'x');
    symlinkSync(victim, join(dir, '.c.0123456789ab.tmp'));
    const removed = await removeAtomicTempFiles(dir);
    expect(removed.map((f) => f.slice(dir.length + 1)).sort()).toEqual(['.a.conf.0123456789ab.tmp', '.b.pem.ffffffffffff.tmp', '.c.0123456789ab.tmp']);
    expect(readdirSync(dir).sort()).toEqual(['.a.conf.0123456789AB.tmp', '.a.conf.tmp', 'a.conf.0123456789ab.tmp', 'victim']);
    expect(await removeAtomicTempFiles(join(dir, 'missing'))).toEqual([]);
    await rm(dir, { recursive: true, force: true });
  });

  it('directoryProblems names links, foreign owners and group/world-writable directories', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'files-dirs-'));
    const uid = process.getuid?.() ?? 0;
    expect(await directoryProblems(dir, uid)).toEqual([]);
    chmodSync(dir, 0o775);
    expect(await directoryProblems(dir, uid)).toEqual([`${dir} is writable by group or others (mode 775)`]);
    chmodSync(dir, 0o700);
    symlinkSync(dir, `${dir}-link`);
    expect(await directoryProblems(`${dir}-link`, uid)).toEqual([`${dir}-link is a symbolic link`]);
    expect(await directoryProblems(join(dir, 'missing'), uid)).toEqual([]);
    if (uid === 0) {
      chownSync(dir, 4242, 0);
      expect(await directoryProblems(dir, uid)).toEqual([`${dir} is owned by uid 4242, not root or the agent (uid 0)`]);
    }
    await rm(`${dir}-link`, { force: true });
    await rm(dir, { recursive: true, force: true });
  });
});
