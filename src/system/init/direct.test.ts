/**
 * The direct adapter's `exited` capability with the real ProcessRunner and real (tiny) processes,
 * no root: stand-in daemons are `/bin/sh` scripts, since what is tested is the adapter's
 * bookkeeping of the process it spawned, not a daemon. A process that exits before it writes a
 * pid file is reported with its exit code, one killed by a signal with the signal; a running one,
 * one the agent stopped, an uninstalled unit's and one the adapter did not spawn are not reported.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../../test/support/wait-for.js';
import { parseConfig } from '../../config/load.js';
import { silentLogger } from '../../log.js';
import { ExecaRunner } from '../exec.js';
import { createPaths } from '../paths.js';
import { DirectInit } from './direct.js';
import type { DaemonUnitSpec } from './types.js';

describe('DirectInit.exited: the process its start spawned, with real processes', () => {
  let root: string;
  let init: DirectInit;
  let n = 0;

  /**
   * A stand-in daemon running `script` (sh; "$4" is its pid file): its identity is the shell's
   * command name and the `-f <config> -p <pid file>` it is started with, as a daemon's is.
   */
  const daemon = (script: string): DaemonUnitSpec => {
    const unit = `stand-in-${++n}`;
    const pidFile = join(root, `${unit}.pid`);
    const config = join(root, `${unit}.conf`);
    return {
      unit,
      description: 'stand-in daemon',
      argv: ['/bin/sh', '-c', script, 'sh', '-f', config, '-p', pidFile],
      pidFile,
      identity: { comm: 'sh', config, pidFile },
      childPidFiles: [],
      logFile: join(root, `${unit}.log`),
      netnsUnit: 'amphora-netns',
      netnsSetupScript: join(root, 'netns-setup.sh'),
    };
  };
  const pidOf = (spec: DaemonUnitSpec) => Number(readFileSync(spec.pidFile, 'utf8').trim());
  // the shell stays the process (no exec), so that it keeps its identity
  const SERVES = 'echo $$ > "$4"; while :; do sleep 1; done';

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'direct-exit-'));
    await writeFile(join(root, 'netns-setup.sh'), 'exit 0\n');
    const config = parseConfig([{ path: `${root}/agent.conf`, text: `[haproxy_amphora]\nbase_path = ${root}/lib\n[amphora_agent]\nproc_dir = /proc\n` }]).config;
    init = new DirectInit(new ExecaRunner(silentLogger(), 10_000), createPaths(config));
  });

  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('reports the exit code of a process that exited before it wrote its pid file; its output is in the log', async () => {
    const spec = daemon('echo "[ALERT] cannot bind socket"; exit 3');
    await init.start(spec);
    expect(await waitFor('the exit to be reported', () => init.exited(spec), 10_000)).toEqual({ exitCode: 3, signal: null });
    expect(existsSync(spec.pidFile)).toBe(false);
    expect(readFileSync(spec.logFile, 'utf8')).toContain('cannot bind socket');
    // a failed new object's unit is removed: its record goes with it
    await init.uninstall(spec);
    expect(init.exited(spec)).toBeUndefined();
  });

  it('reports nothing while the process runs, the signal once it is killed, and a new start forgets it', async () => {
    const spec = daemon(SERVES);
    await init.start(spec);
    await waitFor('the pid file', () => init.isActive(spec), 10_000);
    expect(init.exited(spec)).toBeUndefined();
    process.kill(pidOf(spec), 'SIGKILL');
    expect(await waitFor('the kill to be reported', () => init.exited(spec), 10_000)).toEqual({ exitCode: null, signal: 'SIGKILL' });
    await init.start(spec);
    expect(init.exited(spec)).toBeUndefined();
    await waitFor('the new pid file', () => init.isActive(spec), 10_000);
    await init.stop(spec);
  });

  it('does not report a process the agent stopped: that is no death', async () => {
    const spec = daemon(SERVES);
    await init.start(spec);
    await waitFor('the pid file', () => init.isActive(spec), 10_000);
    const pid = pidOf(spec);
    await init.stop(spec);
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(init.exited(spec)).toBeUndefined();
  });

  it('says nothing about a running daemon it did not spawn (a start that found it running)', async () => {
    const spec = daemon('exit 1');
    await init.start(spec);
    await waitFor('the exit to be reported', () => init.exited(spec), 10_000);
    // the daemon runs, started by someone else (as after an agent restart)
    const other = spawn('/bin/sh', ['-c', SERVES, ...spec.argv.slice(3)], { detached: true, stdio: 'ignore' });
    await waitFor('the other pid file', () => init.isActive(spec), 10_000);
    await init.start(spec);
    expect(init.exited(spec)).toBeUndefined();
    await init.stop(spec);
    expect(other.pid === undefined || !existsSync(`/proc/${other.pid}/cmdline`) || readFileSync(`/proc/${other.pid}/cmdline`, 'utf8') === '').toBe(true);
  });

  it('never signals a process that holds a dead daemon\'s pid: not active, reload refused, stop leaves it alone', async () => {
    const spec = daemon(SERVES);
    // a reused pid: the pid file names a live process that is not the daemon
    const stranger = spawn('sleep', ['600'], { stdio: 'ignore' });
    try {
      await writeFile(spec.pidFile, `${stranger.pid}\n`);
      expect(await init.isActive(spec)).toBe(false);
      await expect(init.reload(spec)).rejects.toThrow(/is not running/);
      await init.stop(spec);
      expect(stranger.exitCode).toBeNull();
      expect(stranger.signalCode).toBeNull();
      expect(readFileSync(`/proc/${stranger.pid}/comm`, 'utf8').trim()).toBe('sleep');
      expect(existsSync(spec.pidFile)).toBe(false);
    } finally {
      stranger.kill('SIGKILL');
    }
  });
});
