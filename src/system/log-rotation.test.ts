import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../log.js';
import { ExecaRunner } from './exec.js';
import { removeLog, rotateLog, type LogRotation } from './log-rotation.js';

/** A daemon stand-in: appends numbered lines through the O_APPEND descriptor its shell opened (`exec >>`), as `>>` and systemd's `append:` do. */
const WRITER = 'exec >>"$0" 2>&1; i=0; while :; do i=$((i+1)); echo "line $i"; sleep 0.01; done';

const dirs: string[] = [];
const pids: number[] = [];
const children: ChildProcess[] = [];

afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  for (const pid of pids.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempLog(): { dir: string; file: string; rotation: (keep: number) => LogRotation } {
  const dir = mkdtempSync(join(tmpdir(), 'logrot-'));
  dirs.push(dir);
  const file = join(dir, 'octavia-keepalivedlvs-x.log');
  return { dir, file, rotation: (keep) => ({ keep, maxGenerations: 20, generation: (n) => `${file}.${n}` }) };
}

const lineNumbers = (text: string): number[] => [...text.matchAll(/^line (\d+)$/gm)].map((m) => Number(m[1]));

/** Waits until the writer has put `count` more lines into the live file. */
async function waitForLines(file: string, count: number): Promise<void> {
  await vi.waitFor(() => expect(lineNumbers(readFileSync(file, 'utf8')).length).toBeGreaterThanOrEqual(count), { timeout: 20_000, interval: 20 });
}

/** Rotation seen by a real appending writer: the assertions every writer must pass. */
async function checkRotationUnderWriter(file: string, rotation: LogRotation): Promise<void> {
  await waitForLines(file, 20);
  const before = statSync(file).size;
  const moved = await rotateLog(file, rotation);
  expect(moved).toBeGreaterThanOrEqual(before);
  const old = readFileSync(`${file}.1`, 'utf8');
  expect(old.startsWith('OLD ')).toBe(true);
  // the live file starts over, and the writer's next lines land in it from offset 0: O_APPEND, no hole
  expect(statSync(file).size).toBeLessThan(before);
  await waitForLines(file, 10);
  const live = readFileSync(file);
  expect(live.includes(0)).toBe(false);
  expect(live.toString('utf8')).toMatch(/^line \d+\n/);
  // the writer went on where the copy stopped (at most the lines of the truncation's instant are lost)
  const lastOld = Math.max(...lineNumbers(old));
  const firstNew = lineNumbers(live.toString('utf8'))[0] ?? 0;
  expect(firstNew).toBeGreaterThan(lastOld);
}

describe('rotateLog (copy-truncate) with a real writer holding the log open in append mode', () => {
  it('copies to .1, truncates in place, and the writer keeps writing into the live file', async () => {
    const { file, rotation } = tempLog();
    // a log that is already large, as after weeks on an amphora
    writeFileSync(file, 'OLD line\n'.repeat(20_000));
    const writer = spawn('/bin/sh', ['-c', WRITER, file], { stdio: 'ignore' });
    children.push(writer);
    await checkRotationUnderWriter(file, rotation(3));
  });

  it('shifts the generations, keeps `keep` of them and drops the oldest', async () => {
    const { file, rotation } = tempLog();
    writeFileSync(file, 'OLD line\n');
    const writer = spawn('/bin/sh', ['-c', WRITER, file], { stdio: 'ignore' });
    children.push(writer);
    for (let g = 1; g <= 4; g++) {
      await waitForLines(file, 3);
      // a marker through a descriptor of its own, also O_APPEND
      appendFileSync(file, `MARK ${g}\n`);
      await rotateLog(file, rotation(3));
    }
    const marks = (n: number) => [...readFileSync(`${file}.${n}`, 'utf8').matchAll(/^MARK (\d)$/gm)].map((m) => Number(m[1]));
    expect([marks(1), marks(2), marks(3)]).toEqual([[4], [3], [2]]);
    expect(existsSync(`${file}.4`)).toBe(false);
    // lowering keep drops the generations beyond it at the next rotation
    await rotateLog(file, rotation(1));
    expect([existsSync(`${file}.1`), existsSync(`${file}.2`), existsSync(`${file}.3`)]).toEqual([true, false, false]);
  });

  it('a daemon spawned the `direct` way (ExecaRunner.spawnDetached) holds the log itself, so rotation needs no help from the agent', async () => {
    const { file, rotation } = tempLog();
    writeFileSync(file, 'OLD line\n'.repeat(1000));
    const runner = new ExecaRunner(silentLogger(), 10_000);
    const pid = await runner.spawnDetached('/bin/sh', ['-c', 'i=0; while :; do i=$((i+1)); echo "line $i"; sleep 0.01; done'], { logFile: file });
    pids.push(pid);
    // its stdout is the file (opened O_APPEND), not a pipe to the agent
    expect(readlinkSync(`/proc/${pid}/fd/1`)).toBe(file);
    expect(Number.parseInt(/flags:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/fdinfo/1`, 'utf8'))?.[1] ?? '0', 8) & 0o2000).toBe(0o2000);
    await checkRotationUnderWriter(file, rotation(2));
  });

  it('control: a writer without O_APPEND (`exec >`) goes on at its old offset and leaves a hole of NULs, which the checks above would catch', async () => {
    const { file, rotation } = tempLog();
    writeFileSync(file, '');
    const writer = spawn('/bin/sh', ['-c', WRITER.replace('exec >>', 'exec >'), file], { stdio: 'ignore' });
    children.push(writer);
    await waitForLines(file, 20);
    await rotateLog(file, rotation(1));
    await vi.waitFor(() => expect(readFileSync(file).includes(0)).toBe(true), { timeout: 20_000, interval: 20 });
  });

  it('keep 0 truncates without a copy; a missing log is no rotation', async () => {
    const { file, rotation } = tempLog();
    writeFileSync(file, 'x'.repeat(5000));
    expect(await rotateLog(file, rotation(0))).toBe(5000);
    expect(statSync(file).size).toBe(0);
    expect(existsSync(`${file}.1`)).toBe(false);
    expect(await rotateLog(join(tempLog().dir, 'none.log'), rotation(3))).toBeUndefined();
  });

  it('the copy keeps the live file mode', async () => {
    const { file, rotation } = tempLog();
    writeFileSync(file, 'OLD line\n', { mode: 0o640 });
    await rotateLog(file, rotation(2));
    expect(statSync(`${file}.1`).mode & 0o777).toBe(0o640);
  });
});

describe('removeLog', () => {
  it('removes the log and every generation up to the maximum; gone files are fine', async () => {
    const { file } = tempLog();
    for (const f of [file, `${file}.1`, `${file}.2`, `${file}.7`]) writeFileSync(f, 'x');
    await removeLog(file, (n) => `${file}.${n}`, 20);
    expect([file, `${file}.1`, `${file}.2`, `${file}.7`].filter((f) => existsSync(f))).toEqual([]);
    await removeLog(file, (n) => `${file}.${n}`, 20);
  });
});
