import { describe, expect, it } from 'vitest';
import { IniParseError, parseOsloIni } from './oslo-ini.js';

const get = (text: string, section: string, key: string) => parseOsloIni(text).get(section)?.get(key)?.value;

describe('parseOsloIni', () => {
  it('keeps # and ; inside values, as oslo.config does', () => {
    expect(get('[health_manager]\nheartbeat_key = ab#cd ;x\n', 'health_manager', 'heartbeat_key')).toBe('ab#cd ;x');
  });

  it('accepts ":" as separator, strips one pair of quotes and ignores whole-line comments', () => {
    const doc = parseOsloIni('# top\n[DEFAULT]\n; note\ndebug: True\nlog_file = "/var/log/x.log"\n');
    expect(doc.get('DEFAULT')?.get('debug')?.value).toBe('True');
    expect(doc.get('DEFAULT')?.get('log_file')?.value).toBe('/var/log/x.log');
  });

  it('joins continuation lines and records the line of the key', () => {
    const doc = parseOsloIni('[a]\nlist = one,\n  two\n\nother = 1\n');
    expect(doc.get('a')?.get('list')).toEqual({ value: 'one,\ntwo', line: 2 });
    expect(doc.get('a')?.get('other')?.line).toBe(5);
  });

  it('lets the last assignment win and merges repeated sections', () => {
    const doc = parseOsloIni('[a]\nx = 1\n[b]\ny = 2\n[a]\nx = 3\n');
    expect(doc.get('a')?.get('x')?.value).toBe('3');
    expect(doc.get('b')?.get('y')?.value).toBe('2');
  });

  it.each([
    ['[a\nx=1', /must end with \]/],
    ['[]\n', /empty section name/],
    ['[a]\njust words\n', /no ':' or '='/],
    ['[a]\n= value\n', /key cannot be empty/],
    ['  indented first\n', /unexpected continuation/],
    ['x = 1\n', /outside of any section/],
  ])('rejects %j with a line number', (text, reason) => {
    expect(() => parseOsloIni(text)).toThrow(IniParseError);
    expect(() => parseOsloIni(text)).toThrow(reason);
  });
});
