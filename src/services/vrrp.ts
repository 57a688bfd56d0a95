/**
 * @module services/vrrp
 * The VRRP keepalived of ACTIVE_STANDBY amphorae: upload (validated by keepalived inside the
 * namespace, where its interfaces are), start, stop and reload. Its vrrp_script runs the check
 * script the agent keeps at `<base_path>/vrrp/check_script.sh`.
 */
import { InvalidInput, NotFound } from '../model/errors.js';
import { configHash } from '../model/keepalived-config.js';
import { ensureDir, readIfExists, removeFile, writeFileAtomic } from '../system/files.js';
import { startOrReload } from './daemon-health.js';
import type { KeepalivedServiceDeps } from './keepalived-daemons.js';
import { replaceValidated, validateKeepalivedConfig } from './keepalived-validate.js';
import { KeyedLock } from './keyed-lock.js';

export type VrrpAction = 'start' | 'stop' | 'reload';

export type VrrpDeps = KeepalivedServiceDeps;

const KEY = 'vrrp';

export class Vrrp {
  private readonly lock = new KeyedLock();

  constructor(private readonly deps: VrrpDeps) {}

  async upload(body: Buffer): Promise<void> {
    if (body.length === 0) throw new InvalidInput('Invalid request', 'the request body is empty');
    const text = body.toString('utf8');
    await this.lock.run(KEY, async () => {
      const { paths, scripts, init, daemons, state, runner, log } = this.deps;
      const agent = this.deps.config().amphora_agent;
      await ensureDir(paths.vrrpDir);
      // The check scripts must exist before validation: keepalived disables a missing vrrp_script.
      await Promise.all([scripts.writeVrrpCheck(), scripts.writeLvsLiveness()]);
      // validation runs inside the namespace, where the VRRP interfaces are
      await scripts.ensureNamespace();
      const previousText = await replaceValidated(paths.vrrpConfig, text, (file) =>
        validateKeepalivedConfig(runner, agent.keepalived_cmd, file, log, agent.network_namespace),
      );
      const daemon = daemons.vrrp();
      try {
        await init.install(daemon, daemons.netns());
        await init.enable(daemon, daemons.netns());
        const previous = state.current.vrrp;
        await state.update((s) => {
          s.vrrp = { wantRunning: previous?.wantRunning ?? false, appliedHash: previous?.appliedHash ?? null };
        });
      } catch (err) {
        if (previousText === undefined) await removeFile(paths.vrrpConfig);
        else await writeFileAtomic(paths.vrrpConfig, previousText, 0o644);
        throw err;
      }
    });
  }

  /** Returns the reference's success detail: "keepalived started" and so on. */
  async act(action: VrrpAction): Promise<string> {
    return this.lock.run(KEY, async () => {
      const { init, daemons, paths, state } = this.deps;
      const text = await readIfExists(paths.vrrpConfig);
      if (text === undefined || state.current.vrrp === null) {
        throw new NotFound('VRRP Not Found', 'No VRRP configuration has been uploaded');
      }
      const daemon = daemons.vrrp();
      if (action === 'stop') {
        await init.stop(daemon);
        await state.update((s) => void (s.vrrp = { wantRunning: false, appliedHash: null }));
        return 'keepalived stopped';
      }
      const hash = configHash(text);
      const running = await init.isActive(daemon);
      if (running && state.current.vrrp.appliedHash === hash) return `keepalived ${action === 'start' ? 'started' : 'reloaded'} (configuration unchanged)`;
      await state.update((s) => void (s.vrrp = { wantRunning: true, appliedHash: null }));
      const children = [daemons.vrrpChildPidFile()];
      const settleMs = this.deps.config().amphora_agent.process_settle_seconds * 1000;
      await startOrReload(paths, init, { daemon, children, running, settleMs });
      await state.update((s) => void (s.vrrp = { wantRunning: true, appliedHash: hash }));
      return running ? 'keepalived reloaded' : 'keepalived started';
    });
  }
}
