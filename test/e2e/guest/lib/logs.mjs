/**
 * @module test/e2e/guest/lib/logs
 * The logs the host prints after a failed run: both agents' journals and keepalived's own log
 * files, copied into $E2E_WORK/logs/ (a listener's log is gone once it is deleted, so the
 * scenarios that delete copy them first).
 */
import { copyFileSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sh } from './commands.mjs';
import { LOGS } from './context.mjs';
import { AGENTS } from './topology.mjs';

export function copyKeepalivedLogs() {
  for (const a of Object.values(AGENTS)) {
    for (const dir of ['lvs', 'vrrp']) {
      const d = join(a.base, dir);
      if (!existsSync(d)) continue;
      for (const f of readdirSync(d).filter((x) => x.endsWith('.log'))) copyFileSync(join(d, f), join(LOGS, `keepalived-${a.prefix || 'a-'}${f}`));
    }
  }
}

export async function collectLogs() {
  const dump = async (file, cmd, args) => writeFileSync(join(LOGS, file), (await sh(cmd, args, { allowFail: true, timeout: 60_000 })).out);
  // journal.txt (the whole boot) is written by the runner unit's ExecStopPost, also after a timeout
  await dump('agent-a.log', 'journalctl', ['-u', 'amphora-agent', '--no-pager', '-o', 'cat']);
  await dump('agent-b.log', 'journalctl', ['-u', AGENTS.b.agentUnit, '--no-pager', '-o', 'cat']);
  copyKeepalivedLogs();
}
