/**
 * @module test/integration/init-scripts-upstart-job
 * The agent's upstart job (init-scripts/upstart/amphora-agent.conf), checked structurally by
 * test/support/upstart-job.ts because Debian ships no `init-checkconf`, and that checker shown
 * to report a broken job. Needs no tool, so it never skips.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { UPSTART } from '../support/init-script-files.js';
import { parseUpstartJob } from '../support/upstart-job.js';

describe('upstart job, structurally (init-checkconf is not in Debian)', () => {
  it('has known stanzas, one main process, balanced events and a closed script block', async () => {
    const job = parseUpstartJob(await readFile(UPSTART, 'utf8'));
    expect(job.errors).toEqual([]);
    expect(job.stanzas.get('start on')).toHaveLength(1);
    expect(job.stanzas.get('stop on')).toHaveLength(1);
    expect(job.stanzas.has('respawn')).toBe(true);
    expect(job.scripts.map((s) => s.process)).toEqual(['main']);
    expect(job.scripts[0]?.body).toMatch(/exec "\$DAEMON" --config-file "\$CONFIG"/);
  });

  it('reports what a checker must report', () => {
    const bad = parseUpstartJob('description "x"\nstart on (a and b\nfrobnicate yes\nconsole loud\nscript\n  true\n');
    expect(bad.errors.join('\n')).toMatch(/balanced[\s\S]*unknown stanza "frobnicate"[\s\S]*console[\s\S]*no "end script"/);
    expect(parseUpstartJob('description "x"\nexec /bin/true\nscript\nend script\n').errors.join('\n')).toContain('exactly one main process');
  });
});
