/**
 * @module config/option-types
 * Typed option kinds for amphora-agent.conf, mirroring oslo.config's Str/Int/Bool/Port/IP/List
 * options. Each kind turns the raw INI string into a typed value with zod and carries a short
 * "expected" text, so that an invalid value can be reported in one line. Pure.
 */
import { isAbsolute } from 'node:path';
import { z } from 'zod';

export interface OptionKind<T> {
  readonly schema: z.ZodType<T, string>;
  readonly default: T;
  /** What a valid value looks like, for error messages and the README reference. */
  readonly expected: string;
}

const TRUE = new Set(['true', '1', 'on', 'yes']);
const FALSE = new Set(['false', '0', 'off', 'no']);

export function bool(def: boolean): OptionKind<boolean> {
  const schema = z.string().transform((s, ctx) => {
    const v = s.trim().toLowerCase();
    if (TRUE.has(v)) return true;
    if (FALSE.has(v)) return false;
    ctx.addIssue({ code: 'custom', message: 'not a boolean' });
    return z.NEVER;
  });
  return { schema, default: def, expected: 'true or false' };
}

export function int(def: number, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): OptionKind<number> {
  const schema = z
    .string()
    .trim()
    .regex(/^[+-]?\d+$/)
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
  const range =
    min === Number.MIN_SAFE_INTEGER ? '' : max === Number.MAX_SAFE_INTEGER ? ` of at least ${min}` : ` from ${min} to ${max}`;
  return { schema, default: def, expected: `an integer${range}` };
}

export function float(def: number, min = 0): OptionKind<number> {
  const schema = z
    .string()
    .trim()
    .regex(/^[+-]?(\d+\.?\d*|\.\d+)$/)
    .transform(Number)
    .pipe(z.number().min(min));
  return { schema, default: def, expected: `a number of at least ${min}` };
}

export const port = (def: number): OptionKind<number> => ({ ...int(def, 0, 65535), expected: 'a port number from 0 to 65535' });

export function str(def: string): OptionKind<string> {
  return { schema: z.string(), default: def, expected: 'a string' };
}

export function optionalStr(): OptionKind<string | null> {
  return { schema: z.string().transform((s) => (s === '' ? null : s)), default: null, expected: 'a string' };
}

/**
 * Paths end up in unit files and shell scripts the agent renders, so they are limited to
 * characters that need no quoting there.
 */
const SAFE_PATH = /^\/[A-Za-z0-9_.\/+@%:,-]*$/;
const PATH_FORM = 'an absolute path of letters, digits and _ . / + @ % : , -';

export function absPath(def: string): OptionKind<string> {
  return {
    schema: z.string().trim().refine((p) => isAbsolute(p) && SAFE_PATH.test(p)),
    default: def,
    expected: PATH_FORM,
  };
}

export function optionalAbsPath(): OptionKind<string | null> {
  return {
    schema: z
      .string()
      .trim()
      .refine((p) => p === '' || (isAbsolute(p) && SAFE_PATH.test(p)))
      .transform((p) => (p === '' ? null : p)),
    default: null,
    expected: PATH_FORM,
  };
}

export function choice<const T extends readonly [string, ...string[]]>(values: T, def: T[number]): OptionKind<T[number]> {
  return {
    schema: z.string().trim().pipe(z.enum(values)),
    default: def,
    expected: `one of ${values.join(', ')}`,
  };
}

export function ipAddress(def: string | null): OptionKind<string | null> {
  return {
    schema: z.string().trim().pipe(z.union([z.ipv4(), z.ipv6()])),
    default: def,
    expected: 'an IPv4 or IPv6 address',
  };
}

export function list(def: readonly string[]): OptionKind<readonly string[]> {
  const schema = z.string().transform((s) =>
    s
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== ''),
  );
  return { schema, default: def, expected: 'a comma-separated list' };
}

/** `host:port` entries as in `[health_manager] controller_ip_port_list` (IPv6 hosts are not bracketed there). */
export function hostPortList(def: readonly string[]): OptionKind<readonly string[]> {
  const entry = /^(.+):(\d{1,5})$/;
  const schema = list(def).schema.refine((items) =>
    items.every((item) => {
      const m = entry.exec(item);
      return m !== null && Number(m[2]) <= 65535 && !/\s/.test(m[1] ?? ' ');
    }),
  );
  return { schema, default: def, expected: 'a comma-separated list of host:port' };
}

/** A name that ends up in argv and file names: letters, digits, `_`, `.`, `-`. */
export function token(def: string, max = 64): OptionKind<string> {
  return {
    schema: z.string().trim().regex(new RegExp(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,${max - 1}}$`)),
    default: def,
    expected: `a name of letters, digits, '_', '.' or '-' (at most ${max})`,
  };
}

/**
 * A prefix for the names of the units the agent installs: empty (Octavia's names), or lower-case
 * letters, digits and '-' starting with a letter, so that prefix + name stays a valid unit name.
 */
export function unitPrefix(def: string, max = 32): OptionKind<string> {
  return {
    schema: z.string().trim().regex(new RegExp(`^([a-z][a-z0-9-]{0,${max - 1}})?$`)),
    default: def,
    expected: `empty, or lower-case letters, digits and '-' starting with a letter (at most ${max})`,
  };
}
