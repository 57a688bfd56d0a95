/**
 * @module model/vrrp-timing
 * How long an ACTIVE_STANDBY pair needs, at most, to move the VIP away from an amphora whose
 * check script started failing, read from the VRRP keepalived config the controller uploaded:
 * the slowest `vrrp_script` (interval × fall, plus its timeout for the last run) and then the
 * peer's master-down timer (3 × advert_int, plus at most one advert of skew). The reconcile job
 * waits longer than this before it restarts a dead listener daemon, so that the failover always
 * happens first (docs/design/0010-restarting-dead-daemons.md).
 * Must not: do I/O.
 */

/** keepalived's defaults when the config says nothing. */
const DEFAULTS = { interval: 1, fall: 1, advertInt: 1 } as const;

interface ScriptTiming {
  interval: number;
  fall: number;
  timeout: number | undefined;
}

/** Numbers only: a keyword with anything else is keepalived's business (it refuses the config). */
function number(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+(\.\d+)?$/.test(value)) return undefined;
  return Number(value);
}

/** The `vrrp_script` blocks' timings and the largest `advert_int`, from one pass over the lines. */
function read(text: string): { scripts: ScriptTiming[]; advertInt: number } {
  const scripts: ScriptTiming[] = [];
  let advertInt: number | undefined;
  let current: ScriptTiming | undefined;
  let depth = 0;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#!].*$/, '').trim();
    const [key, value] = line.split(/\s+/);
    if (depth === 0 && key === 'vrrp_script') current = { interval: DEFAULTS.interval, fall: DEFAULTS.fall, timeout: undefined };
    else if (current !== undefined && depth === 1) {
      if (key === 'interval') current.interval = number(value) ?? current.interval;
      if (key === 'fall') current.fall = number(value) ?? current.fall;
      if (key === 'timeout') current.timeout = number(value) ?? current.timeout;
    }
    if (key === 'advert_int') advertInt = Math.max(advertInt ?? 0, number(value) ?? DEFAULTS.advertInt);
    depth += (line.match(/\{/g) ?? []).length - (line.match(/\}/g) ?? []).length;
    if (depth <= 0) {
      depth = 0;
      if (current !== undefined && line.includes('}')) {
        scripts.push(current);
        current = undefined;
      }
    }
  }
  return { scripts, advertInt: advertInt ?? DEFAULTS.advertInt };
}

/**
 * Seconds from the first failing check run to the peer holding the VIP, at most. A config without
 * a `vrrp_script` fails over only when keepalived itself goes: the master-down timer alone.
 */
export function vrrpFailoverSeconds(text: string): number {
  const { scripts, advertInt } = read(text);
  // keepalived's script timeout defaults to the interval
  const check = Math.max(0, ...scripts.map((s) => s.interval * s.fall + (s.timeout ?? s.interval)));
  return check + 4 * advertInt;
}
