/**
 * @module test/support/lvs-equivalence-env
 * What the tests comparing the agent's LVS renders with Octavia's share
 * (test/integration/lvs-equivalence.test.ts, lvs-octavia-divergences.test.ts): whether this
 * machine can run them, and per test file a network namespace and a temp dir of its own. Both
 * configs name the namespace, and keepalived enters it while it checks a config; misc_path must
 * name an existing script, as on an amphora, so the agent's udp_check.sh is written there.
 * Renders one listener with the agent and with Octavia's templater, and runs the real
 * `keepalived --config-test` (services/keepalived-validate.ts over the real ExecaRunner).
 * Registers its own beforeAll/afterAll: call it inside the describe that uses it.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { AgentError } from '../../src/model/errors.js';
import type { Listener } from '../../src/model/listener/schema.js';
import { renderLvsConfig, type LvsRenderSettings } from '../../src/render/lvs-view.js';
import { renderUdpCheck } from '../../src/render/scripts.js';
import { validateKeepalivedConfig } from '../../src/services/apply/validators.js';
import { ExecaRunner } from '../../src/system/exec.js';
import { KEEPALIVED, RENDER_SCRIPT, addNetns, deleteNetns, uniqueName } from './keepalived-fixture.js';
import { octaviaSpec, renderWithOctavia } from './octavia-lvs-spec.js';
import { tierCanRun } from './requirements.js';

/** True when this machine has what the comparison needs; otherwise says why (see requirements.ts). */
export function lvsEquivalenceCanRun(): boolean {
  return tierCanRun('integration: LVS renders equivalent to Octavia', {
    root: true,
    binaries: ['keepalived', 'ip'],
    python: 'octavia',
    files: [RENDER_SCRIPT],
  });
}

export interface LvsEquivalenceEnv {
  /** The network namespace both renders name. */
  readonly ns: string;
  /** The agent's render (render/lvs-view.ts) of `listener` as listener `id`. */
  ours(listener: Listener, id: string): string;
  /** What Octavia's LvsJinjaTemplater renders for the same listener, in the same namespace. */
  theirs(listener: Listener, id: string): Promise<string>;
  /** keepalived --config-test, as the agent runs it on an upload; its words in the error. */
  accepted(who: string, text: string): Promise<void>;
}

const log = silentLogger();
const runner = new ExecaRunner(log, 60_000);

export function lvsEquivalenceEnv(): LvsEquivalenceEnv {
  const ns = uniqueName('eq');
  let dir: string;
  let settings: LvsRenderSettings;
  let basePath: string;
  let n = 0;

  beforeAll(async () => {
    await addNetns(ns);
    dir = await mkdtemp(join(tmpdir(), 'aat-eq-'));
    // misc_path must name an existing script, as on an amphora (the agent installs it there).
    basePath = join(dir, 'octavia');
    await mkdir(join(basePath, 'lvs', 'check'), { recursive: true });
    await writeFile(join(basePath, 'lvs', 'check', 'udp_check.sh'), renderUdpCheck(), { mode: 0o755 });
    settings = { namespace: ns, sctpCheckCommand: 'amphora-health-checker' };
  });

  afterAll(async () => {
    await deleteNetns(ns);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  return {
    ns,
    ours: (listener, id) => renderLvsConfig(listener, id, settings),
    theirs: (listener, id) => renderWithOctavia(octaviaSpec(listener, id, basePath), ns),
    accepted: async (who, text) => {
      const file = join(dir, `render-${++n}.conf`);
      await writeFile(file, text);
      try {
        await validateKeepalivedConfig(runner, KEEPALIVED, file, log);
      } catch (err) {
        const details = err instanceof AgentError ? String(err.details ?? '') : '';
        throw new Error(`keepalived refused ${who} render (${file}): ${String(err)}\n${details}\n--- config\n${text}`);
      }
    },
  };
}
