/**
 * Every haproxy golden (src/render/__golden__/haproxy-*.cfg, written by
 * src/render/haproxy-view.test.ts) through the real `haproxy -c`: each must be valid without a
 * single warning or alert. And the agent's validation (services/haproxy-lbs.ts over the real
 * ExecaRunner) must refuse broken configs with haproxy's own words.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { ConfigRejected } from '../../src/model/errors.js';
import { validateHaproxyConfig } from '../../src/services/apply/validators.js';
import { ExecaRunner } from '../../src/system/exec.js';
import { REPO_ROOT } from '../support/agent-fixture.js';
import { sh, show } from '../support/keepalived-fixture.js';
import { rejectionOf } from '../support/rejection.js';
import { tierCanRun } from '../support/requirements.js';

const HAPROXY = '/usr/sbin/haproxy';
const GOLDEN_DIR = join(REPO_ROOT, 'src/render/__golden__');

const canRun = tierCanRun('integration: haproxy config test', { binaries: ['haproxy'], files: [HAPROXY] });

const goldens = async (): Promise<string[]> => (await readdir(GOLDEN_DIR)).filter((f) => /^haproxy-.*\.cfg$/.test(f)).sort();

describe.skipIf(!canRun)('haproxy -c on the rendered goldens and on broken configs', () => {
  const log = silentLogger();
  const runner = new ExecaRunner(log, 60_000);
  let dir: string;
  let n = 0;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aat-hc-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const validate = async (text: string): Promise<void> => {
    const file = join(dir, `candidate-${++n}.cfg`);
    await writeFile(file, text);
    await validateHaproxyConfig(runner, HAPROXY, file, log);
  };

  it('has goldens to check (one per feature)', async () => {
    expect((await goldens()).length).toBeGreaterThanOrEqual(25);
  });

  it('accepts every golden without a warning or an alert', async () => {
    const bad: string[] = [];
    // haproxy -c opens the server-state file too (a missing one is a warning): each golden runs
    // with a file of no states, as the agent writes it before a start, in place of the load
    // balancer's under /var/lib/octavia
    const stateFile = join(dir, 'servers-state');
    await writeFile(stateFile, '1\n');
    for (const name of await goldens()) {
      const text = await readFile(join(GOLDEN_DIR, name), 'utf8');
      const named = /^ {4}server-state-file (\/var\/lib\/octavia\/[0-9a-f-]{36}\/servers-state)$/m.exec(text)?.[1];
      if (named === undefined) bad.push(`${name}: no server-state-file line`);
      const copy = join(dir, name);
      await writeFile(copy, text.replace(`server-state-file ${named}`, `server-state-file ${stateFile}`));
      const r = await sh(HAPROXY, ['-c', '-f', copy]);
      const output = r.stdout + r.stderr;
      if (r.code !== 0 || /\[(?:WARNING|ALERT)\]/.test(output)) bad.push(`${name}: ${show(r)}`);
    }
    expect(bad).toEqual([]);
  });

  it('accepts a golden through the agent\'s validation', async () => {
    await expect(validate(await readFile(join(GOLDEN_DIR, 'haproxy-several-listeners.cfg'), 'utf8'))).resolves.toBeUndefined();
  });

  it('refuses an unknown keyword with the line haproxy names', async () => {
    const text = (await readFile(join(GOLDEN_DIR, 'haproxy-tcp-round-robin.cfg'), 'utf8')).replace(/^(\s+balance roundrobin)$/m, '$1\n    bogus_keyword 42');
    const err = await rejectionOf(validate(text));
    expect(err).toBeInstanceOf(ConfigRejected);
    expect(err.status).toBe(400);
    expect(err.details).toMatch(/unknown keyword 'bogus_keyword' in 'backend' section/);
  });

  it('refuses a default_backend that does not exist', async () => {
    const text = (await readFile(join(GOLDEN_DIR, 'haproxy-tcp-round-robin.cfg'), 'utf8')).replace(/default_backend \S+/, 'default_backend nowhere');
    const err = await rejectionOf(validate(text));
    expect(err).toBeInstanceOf(ConfigRejected);
    expect(err.details).toMatch(/unable to find required default_backend: 'nowhere'/);
  });

  it('refuses a config with nothing to listen on (haproxy would not start)', async () => {
    const err = await rejectionOf(validate('global\n    maxconn 10\n'));
    expect(err).toBeInstanceOf(ConfigRejected);
    expect(err.details).toMatch(/no listener/);
  });
});
