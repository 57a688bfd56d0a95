/**
 * The reliability fuzz's judgement of written paths (test/reliability/support/fuzz-checks.ts),
 * checked on its own: the fuzz itself exercises it only on a seed that makes keepalived run a script.
 */
import { describe, expect, it } from 'vitest';
import { outsideRoots } from './support/fuzz-checks.js';

describe('outsideRoots', () => {
  const root = '/tmp/agent-root';
  it('reports a path outside the roots that no accepted upload names', () => {
    const r = outsideRoots([`${root}/lib/x.cfg`, '/tmp/zzinjectedzz', '/proc/sys/net/x'], [root], 'ns1', ['vrrp_instance x {\n}']);
    expect(r.outside).toEqual(['/tmp/zzinjectedzz']);
    expect(r.kernel).toBe(1);
    expect(r.namedByUploads).toBe(0);
  });
  it('counts apart a path an accepted upload names (a script the controller\'s config runs)', () => {
    const upload = 'vrrp_instance x {\n  notify_master "/bin/touch /tmp/zzinjectedzz"\n}';
    const r = outsideRoots(['/tmp/zzinjectedzz', '/etc/passwd'], [root], 'ns1', [upload]);
    expect(r.outside).toEqual(['/etc/passwd']);
    expect(r.namedByUploads).toBe(1);
  });
});
