import { describe, expect, it } from 'vitest';
import { isCertificateName } from './certificate-name.js';

describe('isCertificateName', () => {
  it('accepts every name the controller uses', () => {
    for (const name of [
      // a listener's crt-list, a TLS or pool client certificate (its SHA-1), a CA or CRL secret (its SHA-1)
      '11111111-2222-3333-4444-555555555555.pem',
      'da39a3ee5e6b4b0d3255bfef95601890afd80709.pem',
      // older names built from several ids, and the reference's documented (xxx.)*xxx.pem
      '11111111-2222-3333-4444-555555555555-sni_1.pem',
      'a.b.c.pem',
      'x.pem',
    ]) {
      expect(isCertificateName(name), name).toBe(true);
    }
  });

  it('refuses traversal, slashes, dot files, other suffixes and odd characters', () => {
    for (const name of [
      '', '.pem', '..pem', '...pem', '../x.pem', '..', 'a/b.pem', '/etc/x.pem', 'a\\b.pem', '.hidden.pem',
      'a..b.pem', 'x.pem.sh', 'x.pem/', 'x.PEM', 'xpem', 'x pem.pem', 'x.pem\n', 'x\n.pem', '-x.pem', 'é.pem', 'x;rm.pem',
      `${'a'.repeat(252)}.pem`,
    ]) {
      expect(isCertificateName(name), JSON.stringify(name)).toBe(false);
    }
  });
});
