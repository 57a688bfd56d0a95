/**
 * @module model/uuid
 * The branded `Uuid` type for amphora, load balancer and listener ids. Octavia ids are UUIDs;
 * accepting nothing else keeps every id-derived file name inside its directory.
 */
import { InvalidInput } from './errors.js';

export type Uuid = string & { readonly __brand: 'Uuid' };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isUuid(value: string): value is Uuid {
  return UUID.test(value);
}

/** Lower-cases and checks `value`; throws `InvalidInput` naming `what` otherwise. */
export function parseUuid(value: string, what: string): Uuid {
  const lower = value.toLowerCase();
  if (!isUuid(lower)) throw new InvalidInput('Invalid request', `${what} must be a UUID, got ${JSON.stringify(value.slice(0, 80))}`);
  return lower;
}
