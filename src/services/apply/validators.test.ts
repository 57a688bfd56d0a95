import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../log.js';
import { ConfigRejected } from '../../model/errors.js';
import { FakeRunner } from '../../../test/fakes/fake-runner.js';
import { harmfulFindings, validateKeepalivedConfig } from './validators.js';

// Outputs and exit statuses as keepalived 2.2.7 gives them (see test/integration/keepalived-config-test.test.ts).
const SECURITY = 'SECURITY VIOLATION - check scripts are being executed but script_security not enabled.';
const NOPREEMPT = '(aaaaaaaa00000000000000000000000) Warning - nopreempt will not work with initial state MASTER - clearing';
const NO_REAL_SERVERS = 'Virtual server [ipv4-group]:0 has no real servers - ignoring';

const validate = (exitCode: number | undefined, stderr: string) =>
  validateKeepalivedConfig(new FakeRunner().on(['/usr/sbin/keepalived', '--config-test'], { exitCode, stderr }), '/usr/sbin/keepalived', '/x.conf', silentLogger());

describe('validateKeepalivedConfig', () => {
  it.each([
    ['nothing found', 0, ''],
    ['only the script_security warning (exit 6)', 6, `${SECURITY}\n`],
    ['script_security and nopreempt (a controller VRRP config)', 6, `${SECURITY}\n${NOPREEMPT}\n`],
    ['a virtual server without real servers (exit 5: a pool without members)', 5, `${NO_REAL_SERVERS}\n`],
    // keepalived 2.3.3 (Debian 13) says where, seen through Octavia's pool create on an image
    ['the same from keepalived 2.3, with file and line', 5, `(/var/lib/octavia/lvs/octavia-keepalivedlvs-x.conf.new: Line 17) ${NO_REAL_SERVERS}\n`],
  ])('accepts %s', async (_name, exitCode, stderr) => {
    await expect(validate(exitCode, stderr)).resolves.toBeUndefined();
  });

  it.each([
    ['a parse error hidden behind exit 6', 6, `(x.conf: Line 13) Unknown keyword 'bogus_keyword'\n${SECURITY}\n`],
    ['a missing check script next to a harmless warning', 5, `Disabling track script check_script since not found/accessible\n${NOPREEMPT}\n`],
    ['exit 5 with nothing printed', 5, ''],
    ['a parse error with its location next to a located harmless finding', 5, `(x.conf: Line 3) Unknown keyword 'bogus'\n(x.conf: Line 17) ${NO_REAL_SERVERS}\n`],
    ['another exit status even with only harmless output', 4, `${SECURITY}\n`],
  ])('refuses %s with the whole output', async (_name, exitCode, stderr) => {
    const err = await validate(exitCode, stderr).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigRejected);
    expect((err as ConfigRejected).details).toBe(stderr.trim());
  });

  it('a config test stopped by its time limit (a huge junk upload): a 400 with the first findings; silent, a 500', async () => {
    const junk = Array.from({ length: 500 }, (_, i) => `(Line ${i + 1}) Unknown keyword 'x'`).join('\n');
    const err = await validate(undefined, junk).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigRejected);
    const lines = (err as ConfigRejected).details?.split('\n') ?? [];
    expect(lines).toHaveLength(51);
    expect(lines[50]).toBe('(keepalived --config-test was stopped after 500 findings)');
    const silent = await validate(undefined, '').catch((e: unknown) => e);
    expect(silent).not.toBeInstanceOf(ConfigRejected);
    expect((silent as Error).message).toMatch(/Cannot validate the keepalived configuration/);
  });

  it('accepts the quorum warnings of a pool whose members are all drained (weight 0)', () => {
    // keepalived 2.2.7's words for a virtual server whose real servers all have weight 0
    const drained = 'Warning - quorum 1 for [vips-ipv4]:0 exceeds total weight of real servers 0, reducing quorum to 0\nVirtual server [vips-ipv4]:0: hysteresis 0 >= quorum 0; setting hysteresis to 4294967295';
    expect(harmfulFindings(drained)).toEqual([]);
    expect(harmfulFindings('Warning - quorum 3 for [g]:0 exceeds total weight of real servers 2, reducing quorum to 2')).toHaveLength(1);
  });

  it('lists only what is not known to be harmless', () => {
    expect(harmfulFindings(`${SECURITY}\n\n  (x.conf: Line 2) Unknown keyword 'x'\n${NO_REAL_SERVERS}`)).toEqual(["(x.conf: Line 2) Unknown keyword 'x'"]);
  });
});
