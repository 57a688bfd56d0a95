/**
 * @module system/init/open-file-limit
 * The `direct` adapter's way to start a daemon with a raised open-file limit (RLIMIT_NOFILE),
 * the counterpart of LimitNOFILE in systemd and of the `ulimit -n` line in the sysvinit script
 * and the upstart job. Node cannot set a child's rlimits, so the daemon's argv goes behind a
 * fixed `/bin/sh -c` script that raises the limit and then execs the daemon in place (same pid).
 * The limit and the argv are the script's positional parameters, never part of its text.
 *
 * Best effort: when the host refuses the limit (above fs.nr_open, or above the hard limit
 * without CAP_SYS_RESOURCE, as in an unprivileged container) the script raises the soft limit
 * to the hard one and starts the daemon anyway; haproxy then logs the limit it could not reach
 * ("Cannot raise FD limit to N, limit is M."), which the start's 500 carries. prlimit(1) would
 * need the ceiling worked out beforehand, since it refuses the whole command when it cannot set
 * the limit it is given.
 */
import { UnsafeValue } from '../../model/errors.js';

/** Sets soft and hard to "$1" (dash and bash), or both to the hard limit, then drops "$1" and runs the rest. */
const RAISE_THEN_EXEC = 'ulimit -n "$1" 2>/dev/null || ulimit -n "$(ulimit -H -n)" 2>/dev/null || :; shift; exec "$@"';

/** The argv that runs `argv` with its open-file limit raised toward `nofile`; `argv` itself when there is none. */
export function withOpenFileLimit(argv: readonly string[], nofile: number | undefined): string[] {
  if (nofile === undefined || argv.length === 0) return [...argv];
  if (!Number.isSafeInteger(nofile) || nofile < 1) throw new UnsafeValue(`invalid open-file limit: ${JSON.stringify(nofile)}`);
  // "sh" is $0 of the script (its name in error messages), the limit is $1, the daemon's argv the rest.
  return ['/bin/sh', '-c', RAISE_THEN_EXEC, 'sh', String(nofile), ...argv];
}
