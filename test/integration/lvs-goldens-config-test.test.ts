/**
 * Every keepalived LVS golden file the agent's renderer produces (src/render/__golden__/lvs-*.conf,
 * written by src/render/lvs-view.test.ts) passes the real `keepalived --config-test`, through the
 * agent's own validation (services/keepalived-validate.ts over the real ExecaRunner).
 *
 * The goldens name `net_namespace amphora-haproxy`, the UDP-CONNECT check script under
 * /var/lib/octavia and /usr/bin/amphora-health-checker. keepalived enters the namespace while it
 * checks (and checks nothing after that line when the namespace is missing), so a namespace of
 * this test's own is put there; keepalived refuses a MISC_CHECK whose script is missing, so the
 * real udp_check.sh is written to a temporary path that replaces the golden's.
 */
import { readdir, readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { AgentError, ConfigRejected } from '../../src/model/errors.js';
import { renderUdpCheck } from '../../src/render/scripts.js';
import { validateKeepalivedConfig } from '../../src/services/apply/validators.js';
import { ExecaRunner } from '../../src/system/exec.js';
import { KEEPALIVED, addNetns, deleteNetns, uniqueName } from '../support/keepalived-fixture.js';
import { tierCanRun } from '../support/requirements.js';

const GOLDEN_DIR = fileURLToPath(new URL('../../src/render/__golden__/', import.meta.url));
const GOLDEN_UDP_CHECK = '/var/lib/octavia/lvs/check/udp_check.sh';
const SCTP_CHECKER = '/usr/bin/amphora-health-checker';

const canRun = tierCanRun('integration: LVS goldens under keepalived --config-test', {
  root: true,
  binaries: ['keepalived', 'ip'],
  files: [SCTP_CHECKER],
});

const log = silentLogger();
const runner = new ExecaRunner(log, 60_000);

// Read when the file is collected, so that each golden is its own case.
const goldens = (await readdir(GOLDEN_DIR)).filter((f) => /^lvs-.*\.conf$/.test(f)).sort();

describe.skipIf(!canRun)('keepalived --config-test on every LVS golden', () => {
  const ns = uniqueName('lg');
  let dir: string;
  let udpCheck: string;
  let n = 0;

  /** The golden with this test's namespace and check script, as a file to validate. */
  const candidate = async (text: string): Promise<string> => {
    const file = join(dir, `candidate-${++n}.conf`);
    await writeFile(file, text.replace(/^net_namespace amphora-haproxy$/m, `net_namespace ${ns}`).replaceAll(GOLDEN_UDP_CHECK, udpCheck));
    return file;
  };
  const golden = (name: string): Promise<string> => readFile(join(GOLDEN_DIR, name), 'utf8');

  beforeAll(async () => {
    await addNetns(ns);
    dir = await mkdtemp(join(tmpdir(), 'aat-lg-'));
    udpCheck = join(dir, 'udp_check.sh');
    await writeFile(udpCheck, renderUdpCheck(), { mode: 0o755 });
  });

  afterAll(async () => {
    await deleteNetns(ns);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('finds the goldens', () => {
    // one per feature in src/render/lvs-view.test.ts
    expect(goldens.length).toBeGreaterThanOrEqual(25);
  });

  it.each(goldens)('%s', async (name) => {
    const text = await golden(name);
    expect(text).toMatch(/^net_namespace amphora-haproxy$/m);
    await expect(validateKeepalivedConfig(runner, KEEPALIVED, await candidate(text), log)).resolves.toBeUndefined();
  });

  // The cases above only mean something if keepalived really parses the files in this setup.
  // (A missing MISC_CHECK script is no such proof: keepalived 2.2.7 --config-test accepts it
  // silently, exit 0.)
  it.each([
    ['an unknown keyword', (t: string) => t.replace(/^(\s+lb_kind NAT)$/m, '$1\n    bogus_keyword 42'), /Unknown keyword 'bogus_keyword'/],
    ['an unbalanced brace', (t: string) => t.replace(/\}\s*$/, ''), /missing '\}'s or extra '\{'s/],
    ['a status code keepalived cannot read', (t: string) => t.replace('status_code 200-204', 'status_code 2x0'), /Invalid HTTP_GET status code '2x0'/],
  ] as const)('refuses a golden with %s', async (_what, breakIt, finding) => {
    const text = await golden('lvs-monitor-http-range.conf');
    const broken = breakIt(text);
    expect(broken).not.toBe(text);
    let err: unknown;
    try {
      await validateKeepalivedConfig(runner, KEEPALIVED, await candidate(broken), log);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigRejected);
    expect((err as AgentError).details).toMatch(finding);
  });
});
