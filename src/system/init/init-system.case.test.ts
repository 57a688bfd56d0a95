/**
 * @module system/init/init-system.case.test
 * The no-root run of the InitSystem cases (test/support/init-system-cases.ts), next to the
 * adapters: FakeInit, which every API test stands on, passes the lifecycle cases (its "processes"
 * are `<proc_dir>/<pid>/comm` entries in a temporary root); systemd, sysvinit and upstart pass
 * the unit-file cases in a temporary root, with systemctl and initctl answered and counted by a
 * FakeRunner. Real daemons through every adapter, and the same unit-file cases against the real
 * tools, run in test/integration/init-system.case.test.ts (root).
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { FakeInit } from '../../../test/fakes/fake-init.js';
import { FakeRunner } from '../../../test/fakes/fake-runner.js';
import type { DaemonKind, InitHarness } from '../../../test/support/init-case-harness.js';
import { initSystemCases } from '../../../test/support/init-system-cases.js';
import { parseConfig } from '../../config/load.js';
import { silentLogger } from '../../log.js';
import type { Uuid } from '../../model/uuid.js';
import { unitRenderer } from '../../render/init-units.js';
import { DaemonSpecs } from '../../services/daemon-specs.js';
import type { ProcessRunner } from '../exec.js';
import { createPaths } from '../paths.js';
import { createInitSystem } from './detect.js';
import type { DaemonUnitSpec, InitKind, InitSystem } from './types.js';

async function tempAgent(kind: string) {
  const root = await mkdtemp(join(tmpdir(), `init-case-${kind}-`));
  const text = `[haproxy_amphora]\nbase_path = ${root}/lib\n[amphora_agent]\nsystemd_unit_dir = ${root}/systemd\nsysvinit_dir = ${root}/init.d\nupstart_dir = ${root}/init\nproc_dir = ${root}/proc\n`;
  const config = parseConfig([{ path: `${root}/agent.conf`, text }]).config;
  const paths = createPaths(config);
  const specs = new DaemonSpecs(() => config, paths);
  let n = 0;
  const daemon = async (which: DaemonKind): Promise<DaemonUnitSpec> => {
    const id = `ffffffff-0000-4000-8000-${String(++n).padStart(12, '0')}` as Uuid;
    const spec = which === 'keepalived' ? specs.lvs(id) : specs.haproxy(id);
    for (const f of [spec.pidFile, spec.logFile]) await mkdir(dirname(f), { recursive: true });
    return spec;
  };
  return { root, config, paths, netns: specs.netns(), daemon, teardown: () => rm(root, { recursive: true, force: true }) };
}

initSystemCases({
  name: 'FakeInit (test/fakes/fake-init.ts)',
  skip: undefined,
  unitFiles: false,
  lifecycle: true,
  signalProbe: false,
  setup: async (): Promise<InitHarness> => {
    const t = await tempAgent('fake');
    const procDir = t.config.amphora_agent.proc_dir;
    const init: InitSystem = new FakeInit(procDir);
    return {
      init,
      netns: t.netns,
      daemon: t.daemon,
      unitMode: undefined,
      processes: {
        namespaceInode: undefined,
        ready: async () => {},
        facts: async (pid) => {
          const comm = join(procDir, String(pid), 'comm');
          return { alive: existsSync(comm), comm: existsSync(comm) ? readFileSync(comm, 'utf8').trim() : undefined, netnsInode: undefined };
        },
      },
      teardown: t.teardown,
    };
  },
});

const FILE_BASED: readonly { kind: InitKind; mode: number; reread?: string }[] = [
  { kind: 'systemd', mode: 0o644, reread: 'systemctl daemon-reload' },
  { kind: 'sysvinit', mode: 0o755 },
  { kind: 'upstart', mode: 0o644, reread: 'initctl reload-configuration' },
];

for (const { kind, mode, reread } of FILE_BASED) {
  initSystemCases({
    name: `${kind} adapter, unit files (systemctl and initctl recorded)`,
    skip: undefined,
    unitFiles: true,
    lifecycle: false,
    signalProbe: false,
    setup: async (): Promise<InitHarness> => {
      const t = await tempAgent(kind);
      const runner = new FakeRunner().on(['systemctl'], { exitCode: 0 }).on(['initctl'], { exitCode: 0 });
      return {
        init: createInitSystem(kind, t.config, runner, t.paths, silentLogger(), unitRenderer),
        netns: t.netns,
        daemon: t.daemon,
        unitMode: mode,
        ...(reread === undefined ? {} : { managerReloads: () => runner.calls.filter((c) => c.join(' ') === reread).length }),
        processes: undefined,
        teardown: t.teardown,
      };
    },
  });
}

describe('systemd adapter, units written at once', () => {
  it('share daemon-reloads, and each unit is on disk before a reload its install waited for', async () => {
    const t = await tempAgent('systemd-shared');
    try {
      // daemon-reload waits for the test to let it go, and records which unit files it could see
      const reloads: { seen: Set<string>; finish: () => void }[] = [];
      const inner = new FakeRunner().on(['systemctl'], { exitCode: 0 });
      const runner: ProcessRunner = {
        run: async (cmd, args, options) => {
          if (args[0] === 'daemon-reload') {
            const seen = new Set(await readdir(t.config.amphora_agent.systemd_unit_dir));
            await new Promise<void>((finish) => reloads.push({ seen, finish }));
          }
          return inner.run(cmd, args, options);
        },
        spawnDetached: (cmd, args, options) => inner.spawnDetached(cmd, args, options),
      };
      const shared = createInitSystem('systemd', t.config, runner, t.paths, silentLogger(), unitRenderer);
      const daemons = await Promise.all([1, 2, 3, 4].map(() => t.daemon('keepalived')));
      const installs = daemons.map((d) => shared.install(d, t.netns).then(() => d));
      const done: DaemonUnitSpec[] = [];
      for (const p of installs) void p.then((d) => done.push(d));
      // let each reload go, in order, once it has started
      let released = 0;
      while (done.length < daemons.length) {
        await new Promise((r) => setTimeout(r, 5));
        if (released < reloads.length) reloads[released++]!.finish();
      }
      expect(reloads.length).toBeLessThanOrEqual(2);
      expect(reloads.length).toBeGreaterThanOrEqual(1);
      const last = reloads[reloads.length - 1]!;
      for (const d of daemons) expect(last.seen.has(`${d.unit}.service`)).toBe(true);
    } finally {
      await t.teardown();
    }
  });
});
