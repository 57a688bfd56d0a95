/**
 * @module services/digest
 * The ETag of a config: hex MD5, as Octavia's agent answers for uploads.
 */
import { createHash } from 'node:crypto';

export function md5Hex(data: Buffer | string): string {
  return createHash('md5').update(data).digest('hex');
}
