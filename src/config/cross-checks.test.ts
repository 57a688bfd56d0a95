/**
 * The rules between options: the metrics listener serves plain HTTP on loopback only. Through
 * parseConfig, as the agent reads its files: one line naming the file, line, section and fix.
 */
import { describe, expect, it } from 'vitest';
import { isLoopback } from './cross-checks.js';
import { ConfigError, parseConfig } from './load.js';
import { startupOptionNames } from './startup.js';

const parse = (text: string) => parseConfig([{ path: '/etc/octavia/amphora-agent.conf', text }]);

describe('isLoopback', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.255.0.9', true],
    ['::1', true],
    ['0:0:0:0:0:0:0:1', true],
    ['::ffff:127.0.0.1', true],
    ['0.0.0.0', false],
    ['::', false],
    ['128.0.0.1', false],
    ['::2', false],
    ['::ffff:10.0.0.1', false],
    ['198.51.100.4', false],
    ['2001:db8::1', false],
  ])('%s → %s', (address, loopback) => {
    expect(isLoopback(address)).toBe(loopback);
  });
});

describe('[prometheus] options', () => {
  it("are off by default: loopback, port 9447, mutual TLS with the API's client CA", () => {
    expect(parse('').config.prometheus).toEqual({ enabled: false, bind_host: '127.0.0.1', bind_port: 9447, tls: true, client_ca: null });
  });

  it.each([
    ['mutual TLS on any address', 'enabled = true\nbind_host = ::\n'],
    ['plain HTTP on loopback', 'enabled = true\nbind_host = ::1\ntls = false\n'],
    ['a listener that is off', 'bind_host = 0.0.0.0\ntls = false\n'],
  ])('take %s', (_what, options) => {
    expect(() => parse(`[prometheus]\n${options}`)).not.toThrow();
  });

  it('refuse plain HTTP on an address other hosts reach, in one line at the tls option', () => {
    let error: unknown;
    try {
      parse('[prometheus]\nenabled = true\nbind_host = 198.51.100.4\ntls = false\n');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(
      '/etc/octavia/amphora-agent.conf:4: [prometheus] tls = false needs a loopback bind_host (127.0.0.1 or ::1), not 198.51.100.4: set tls = true (mutual TLS with agent_server_ca) or bind to loopback',
    );
  });

  it('are read at startup only (a change waits for the next start)', () => {
    expect(startupOptionNames().filter((o) => o.startsWith('prometheus.'))).toEqual(['prometheus.enabled', 'prometheus.bind_host', 'prometheus.bind_port', 'prometheus.tls', 'prometheus.client_ca']);
  });
});
