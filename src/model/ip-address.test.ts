/**
 * The one IP model (model/ip-address.ts): the canonical spelling (Python's `.compressed`, which
 * the reference compares), the exploded one (`.exploded`, which its interface files carry), the
 * refusals, and the throwing forms the plug requests use, with Python's wording.
 */
import { describe, expect, it } from 'vitest';
import { expectIpAddress, expectNetwork, exploded, isIpAddress, normalizeIp, parseCidr, parseIpAddress } from './ip-address.js';

describe('parseIpAddress', () => {
  it.each([
    ['198.51.100.7', '198.51.100.7'],
    ['0.0.0.0', '0.0.0.0'],
    ['2001:DB8::0:1', '2001:db8::1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ['::ffff:198.51.100.7', '::ffff:c633:6407'],
    ['fe80::1%eth1', 'fe80::1%eth1'],
  ])('%s is %s', (text, canonical) => {
    expect(parseIpAddress(text)?.text).toBe(canonical);
  });

  it.each(['', '198.51.100', '198.51.100.256', '198.051.100.7', '1.2.3.4.5', '2001:db8::1::2', '2001:db8:::1', ':1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7:8::', '12345::1', 'g::1', '::1%', '::1%a b', '198.51.100.7%eth1', ' 198.51.100.7', 'localhost'])(
    'refuses %j',
    (text) => {
      expect(parseIpAddress(text)).toBeUndefined();
    },
  );

  it('gives the version and the bytes', () => {
    expect(parseIpAddress('2001:db8::1')).toMatchObject({ version: 6, bytes: [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1] });
    expect(parseIpAddress('203.0.113.9')).toMatchObject({ version: 4, bytes: [203, 0, 113, 9] });
  });
});

describe('parseCidr', () => {
  it.each([
    ['198.51.100.0/24', '198.51.100.0/24'],
    ['198.51.100.77/24', '198.51.100.0/24'],
    ['198.51.100.77', '198.51.100.77/32'],
    ['203.0.113.255/25', '203.0.113.128/25'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['10.1.2.3/0', '0.0.0.0/0'],
    ['2001:DB8::77/64', '2001:db8::/64'],
    ['2001:db8:1:2:3:4:5:6/127', '2001:db8:1:2:3:4:5:6/127'],
    ['2001:db8::5', '2001:db8::5/128'],
    ['::/0', '::/0'],
  ])('%s is %s', (text, canonical) => {
    expect(parseCidr(text)?.text).toBe(canonical);
  });

  it.each(['198.51.100.0/33', '2001:db8::/129', '198.51.100.0/', '198.51.100.0/24/1', '198.51.100.0/-1', '198.51.100.0/255.255.255.0', 'fe80::/64%eth1', 'fe80::1%eth1/64', 'x/24', ''])('refuses %j', (text) => {
    expect(parseCidr(text)).toBeUndefined();
  });
});

describe('expectIpAddress, isIpAddress, normalizeIp (no zone)', () => {
  it.each([
    ['203.0.113.9', '203.0.113.9'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:0db8::0001', '2001:db8::1'],
    ['::ffff:198.51.100.7', '::ffff:c633:6407'],
    ['fe80:0:0:0:0:0:0:1', 'fe80::1'],
  ])('%s is %s', (text, canonical) => {
    expect(expectIpAddress(text).text).toBe(canonical);
    expect(normalizeIp(text)).toBe(canonical);
    expect(isIpAddress(text)).toBe(true);
  });

  it.each(['fe80::1%eth1', '203.0.113.256', '203.0.113', '2001:db8::1::2', '203.0.113.9/32', '', 'x'])('refuses %j as Python words it', (text) => {
    expect(() => expectIpAddress(text)).toThrow(`${JSON.stringify(text)} does not appear to be an IPv4 or IPv6 address`);
    expect(() => normalizeIp(text)).toThrow(/does not appear to be an IPv4 or IPv6 address/);
    expect(isIpAddress(text)).toBe(false);
  });

  it('refuses what is not a string', () => {
    expect(() => expectIpAddress(42)).toThrow('42 does not appear to be an IPv4 or IPv6 address');
    expect(() => expectIpAddress(null)).toThrow('null does not appear to be an IPv4 or IPv6 address');
    expect(isIpAddress(undefined)).toBe(false);
  });

  it('leaves undefined undefined', () => {
    expect(normalizeIp(undefined)).toBeUndefined();
  });
});

describe('exploded', () => {
  it.each([
    ['203.0.113.9', '203.0.113.9'],
    ['2001:db8::1', '2001:0db8:0000:0000:0000:0000:0000:0001'],
    ['::', '0000:0000:0000:0000:0000:0000:0000:0000'],
    ['FE80::ABCD:1', 'fe80:0000:0000:0000:0000:0000:abcd:0001'],
    ['::ffff:198.51.100.7', '0000:0000:0000:0000:0000:ffff:c633:6407'],
  ])('%s is %s', (text, long) => {
    expect(exploded(expectIpAddress(text))).toBe(long);
  });

  it('spells a network address too', () => {
    expect(exploded(expectNetwork('2001:db8:1::77/48', false))).toBe('2001:0db8:0001:0000:0000:0000:0000:0000');
  });
});

describe('expectNetwork', () => {
  it.each([
    ['203.0.113.0/24', true, '203.0.113.0/24'],
    ['203.0.113.77/24', false, '203.0.113.0/24'],
    ['203.0.113.77', true, '203.0.113.77/32'],
    ['2001:DB8::/64', true, '2001:db8::/64'],
    ['2001:db8::77/64', false, '2001:db8::/64'],
    ['2001:db8::5', true, '2001:db8::5/128'],
    ['0.0.0.0/0', true, '0.0.0.0/0'],
    // Python's ip_network reads a prefix with a leading zero as decimal
    ['203.0.113.0/024', true, '203.0.113.0/24'],
  ])('%s (strict %s) is %s', (text, strict, canonical) => {
    const net = expectNetwork(text, strict);
    expect(net.text).toBe(canonical);
    expect(parseCidr(text)?.text).toBe(canonical);
  });

  it('gives the version, the prefix length and the network bytes', () => {
    expect(expectNetwork('198.51.100.130/25', false)).toEqual({ version: 4, network: '198.51.100.128', bytes: [198, 51, 100, 128], prefixlen: 25, text: '198.51.100.128/25' });
  });

  it.each([
    ['203.0.113.1/24', true, '203.0.113.1/24 has host bits set'],
    ['2001:db8::1/64', true, '2001:db8::1/64 has host bits set'],
    ['203.0.113.0/33', false, '"33" is not a valid netmask'],
    ['2001:db8::/129', false, '"129" is not a valid netmask'],
    ['203.0.113.0/', false, '"" is not a valid netmask'],
    ['203.0.113.0/-1', false, '"-1" is not a valid netmask'],
    ['203.0.113.0/255.255.255.0', false, '"255.255.255.0" is not a valid netmask'],
    ['203.0.113.0/24/1', false, '"203.0.113.0/24/1" does not appear to be an IPv4 or IPv6 network'],
    ['203.0.113.300/24', false, '"203.0.113.300" does not appear to be an IPv4 or IPv6 address'],
    ['fe80::1%eth1/64', false, '"fe80::1%eth1" does not appear to be an IPv4 or IPv6 address'],
  ])('refuses %s (strict %s): %s', (text, strict, message) => {
    expect(() => expectNetwork(text, strict)).toThrow(message);
  });

  it('refuses what is not a string', () => {
    expect(() => expectNetwork(7)).toThrow('7 does not appear to be an IPv4 or IPv6 network');
  });

  it('is strict by default', () => {
    expect(() => expectNetwork('198.51.100.7/24')).toThrow('198.51.100.7/24 has host bits set');
  });
});
