/**
 * @module throttled-log
 * One log message that a stranger can make the agent write at will (a refused TLS handshake, a
 * connection closed by the connection guard): the first few of each minute are logged with their
 * details, the rest only counted, and the count is logged when the minute ends. A flood of
 * connections must not become a flood of log lines (disk, CPU) on a small amphora.
 */
import type { Logger } from './log.js';

type Level = 'debug' | 'info' | 'warn';

export class ThrottledLog {
  private logged = 0;
  private skipped = 0;
  private window: NodeJS.Timeout | undefined;

  constructor(
    private readonly log: Logger,
    private readonly level: Level,
    private readonly msg: string,
    private readonly perWindow = 10,
    private readonly windowMs = 60_000,
  ) {}

  note(fields: Record<string, unknown>): void {
    // unref: an open window must not keep a closing agent (or a test) alive
    this.window ??= setTimeout(() => this.endWindow(), this.windowMs).unref();
    if (this.logged < this.perWindow) {
      this.logged++;
      this.log[this.level](fields, this.msg);
    } else {
      this.skipped++;
    }
  }

  private endWindow(): void {
    if (this.skipped > 0) this.log[this.level]({ more: this.skipped, windowSeconds: this.windowMs / 1000 }, `${this.msg} (more of them, not logged one by one)`);
    this.window = undefined;
    this.logged = 0;
    this.skipped = 0;
  }
}
