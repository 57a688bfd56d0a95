/**
 * @module system/init/coalesced-run
 * Runs a whole-system operation (systemd's daemon-reload) at most twice for any number of
 * concurrent callers, each caller still getting a run that started after it asked.
 *
 * A run already going may have read the unit directory before a caller wrote its unit, so that
 * caller cannot share it; it shares the one queued behind it instead, with everyone else who
 * arrives meanwhile. Units installed concurrently (API 1.0 uploads of different listeners,
 * haproxy load balancers; API 2.0 changes are serialized before they get here, ADR 0002) then
 * cost two reloads instead of one each (a reload takes 0.1-0.3 s on an amphora, 5-21 s in the UML
 * test VM, and grows with the number of units). A failed run fails every caller that shared it;
 * the next caller starts anew.
 */
export class CoalescedRun {
  private running: Promise<void> | null = null;
  private queued: Promise<void> | null = null;

  constructor(private readonly work: () => Promise<void>) {}

  run(): Promise<void> {
    if (this.queued !== null) return this.queued;
    if (this.running === null) return this.start();
    const queued = this.running
      .catch(() => undefined)
      .then(() => {
        this.queued = null;
        return this.start();
      });
    this.queued = queued;
    return queued;
  }

  private start(): Promise<void> {
    const current = this.work().finally(() => {
      if (this.running === current) this.running = null;
    });
    this.running = current;
    return current;
  }
}
