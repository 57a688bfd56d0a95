/**
 * @module services/digest
 * Two digests, each with one use: `contentHash` (SHA-256) is how the agent tells whether a
 * config changed — installed against staged, loaded by the daemon against installed — for
 * every daemon alike; `md5Hex` is the ETag of an upload, as Octavia's agent answers it.
 */
import { createHash } from 'node:crypto';

export function contentHash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function md5Hex(data: Buffer | string): string {
  return createHash('md5').update(data).digest('hex');
}
