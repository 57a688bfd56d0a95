/**
 * @module log
 * The pino factory. Modules get `logger.child({ component })` from the composition root and
 * never import a global logger. Debug level follows `[DEFAULT] debug`; with `[DEFAULT] log_file`
 * the JSON lines go to that file, otherwise to stdout.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export interface LogOptions {
  readonly debug: boolean;
  readonly file?: string | null;
}

export function createLogger(options: LogOptions): Logger {
  const destination = options.file ? pino.destination({ dest: options.file, mkdir: true, sync: false }) : pino.destination(1);
  return pino(
    {
      name: 'amphora-agent',
      level: options.debug ? 'debug' : 'info',
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      serializers: { err: pino.stdSerializers.err },
    },
    destination,
  );
}

/** A logger that drops everything, for tests that do not look at logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
