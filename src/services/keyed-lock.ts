/**
 * @module services/keyed-lock
 * Serializes work per key (a listener id, "vrrp", …) while different keys run concurrently.
 *
 * Re-entrant per lock and key: work that holds a key and asks for it again (in its own async
 * context, while it still holds it) runs at once instead of waiting for itself. That lets one
 * lock per object id be shared by services that call each other: API 2.0's listener models hold
 * a listener's key while they install or remove it through the LVS or haproxy service, which
 * take the same key for API 1.0's requests (issue 14, fault 8: a DELETE of API 1.0 slipped
 * between the install of an API 2.0 PUT and the model it then stored). A timer or promise
 * started inside the work that runs on after it ended holds nothing: each hold has a token, and
 * only the live holder's context re-enters.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export class KeyedLock {
  private readonly tails = new Map<string, Promise<unknown>>();

  /** The token of the work that holds each key now. */
  private readonly holders = new Map<string, symbol>();

  /** The keys (and their tokens) the current async context was given. */
  private readonly context = new AsyncLocalStorage<ReadonlyMap<string, symbol>>();

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const given = this.context.getStore();
    const token = given?.get(key);
    if (token !== undefined && this.holders.get(key) === token) return work();
    const inside = () => this.hold(key, given, work);
    const previous = this.tails.get(key) ?? Promise.resolve();
    const current = previous.then(inside, inside);
    const tail = current.catch(() => undefined);
    this.tails.set(key, tail);
    try {
      return await current;
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  private async hold<T>(key: string, given: ReadonlyMap<string, symbol> | undefined, work: () => Promise<T>): Promise<T> {
    const token = Symbol(key);
    this.holders.set(key, token);
    try {
      return await this.context.run(new Map(given ?? []).set(key, token), work);
    } finally {
      if (this.holders.get(key) === token) this.holders.delete(key);
    }
  }
}
