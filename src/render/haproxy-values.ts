/**
 * @module render/haproxy-values
 * The checked scalars of a haproxy config: integers, ports, IP addresses and endpoints, url
 * paths, status codes and the mode of a protocol. Pure. Each returns its value only once it is
 * known to be safe in the config (again after the API rules) and throws UnsafeValue otherwise;
 * it must not quietly repair a value.
 */
import { isIP } from 'node:net';
import { configToken, type ConfigToken } from '../model/config-token.js';
import { EXPECTED_CODES, URL_PATH, expectedCodesRange } from '../model/listener/rules.js';
import type { Protocol } from '../model/listener/schema.js';
import { UnsafeValue } from '../model/errors.js';
import type { Endpoint, HaproxyMode } from './haproxy-view-types.js';

const MODES: Partial<Record<Protocol, HaproxyMode>> = { TCP: 'tcp', HTTP: 'http' };

export const num = (n: number, what: string, min = 0): number => {
  if (!Number.isSafeInteger(n) || n < min) throw new UnsafeValue(`${what} is not an integer of at least ${min}: ${n}`);
  return n;
};

export function port(n: number, what: string): number {
  if (num(n, what, 1) > 65535) throw new UnsafeValue(`${what} is not a port: ${n}`);
  return n;
}

function address(value: string, what: string): ConfigToken {
  if (isIP(value) === 0) throw new UnsafeValue(`${what} is not an IP address: ${JSON.stringify(value)}`);
  return configToken(value, what);
}

/** IPv6 addresses in brackets: haproxy would otherwise take their last group for a port. */
export function bracketed(value: string, what: string): ConfigToken {
  const a = address(value, what);
  return (isIP(a) === 6 ? `[${a}]` : a) as ConfigToken;
}

export function endpoint(host: string, p: number, what: string): Endpoint {
  return `${bracketed(host, what)}:${port(p, `${what} port`)}` as Endpoint;
}

/** url paths may hold ?, &, ; and ~, which ConfigToken does not allow; URL_PATH still keeps out #, quotes, backslashes, spaces and control characters. */
export function urlPath(value: string): ConfigToken {
  if (!URL_PATH.test(value)) throw new UnsafeValue(`url path is not safe in a config: ${JSON.stringify(value)}`);
  return value as ConfigToken;
}

/** "200", "200,202" or "200-204", rebuilt from the integers it names. */
export function statusCodes(value: string): ConfigToken {
  if (!EXPECTED_CODES.test(value)) throw new UnsafeValue(`expected codes are not codes: ${JSON.stringify(value)}`);
  const codes = expectedCodesRange(value).map((c) => num(c, 'expected code', 100));
  if (codes.length === 0) throw new UnsafeValue(`expected codes name no code: ${JSON.stringify(value)}`);
  const text = value.includes('-') ? `${codes[0]}-${codes[codes.length - 1]}` : codes.join(',');
  return configToken(text, 'expected codes');
}

export function modeOf(protocol: Protocol): HaproxyMode {
  const mode = MODES[protocol];
  if (mode === undefined) throw new UnsafeValue(`${protocol} listeners are not served by haproxy`);
  return mode;
}
