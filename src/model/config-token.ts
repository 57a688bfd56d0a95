/**
 * @module model/config-token
 * A `ConfigToken` is a string that may be written into a unit file, a shell script or a
 * daemon config as one word: no whitespace, quotes, braces, `$`, backquotes, `;`, `&`, `|`,
 * `<`, `>` or control characters. Checked where requests are parsed and again in the view
 * builders, so that a value can never add a directive or a command.
 */
import { UnsafeValue } from './errors.js';

export type ConfigToken = string & { readonly __brand: 'ConfigToken' };

const TOKEN = /^[A-Za-z0-9_.\/+@%:,=-]+$/;

export function isConfigToken(value: string): value is ConfigToken {
  return TOKEN.test(value);
}

export function configToken(value: string, what: string): ConfigToken {
  if (!isConfigToken(value)) throw new UnsafeValue(`${what} is not a safe configuration word: ${JSON.stringify(value)}`);
  return value;
}
