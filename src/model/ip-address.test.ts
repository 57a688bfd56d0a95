/**
 * Canonical spellings of addresses and CIDRs (model/ip-address.ts): the forms Python's
 * `ipaddress` gives as `.compressed`, which is what the reference compares, and the refusals.
 */
import { describe, expect, it } from 'vitest';
import { parseCidr, parseIpAddress } from './ip-address.js';

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
