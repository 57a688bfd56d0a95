/**
 * @module services/heartbeat/envelope
 * The heartbeat datagram as Octavia's health manager opens it (health_daemon/status_message.py,
 * `unwrap_envelope`): the message as UTF-8 JSON, compressed with zlib (deflate, level 9, zlib
 * header), followed by the HMAC-SHA256 of the compressed bytes keyed with `heartbeat_key`,
 * written as 64 lower-case hex ASCII characters. Pure computation (node:zlib, node:crypto).
 */
import { createHmac } from 'node:crypto';
import { constants, deflateSync } from 'node:zlib';

/** Length of the trailing signature: SHA-256 as hex. */
export const SIGNATURE_LENGTH = 64;

/** The signature of `payload`: hex HMAC-SHA256 keyed with the UTF-8 bytes of `key`, as ASCII bytes. */
export function signature(payload: Uint8Array, key: string): Buffer {
  return Buffer.from(createHmac('sha256', Buffer.from(key, 'utf8')).update(payload).digest('hex'), 'ascii');
}

/** The datagram for `message`: compressed JSON, then its signature. */
export function wrapEnvelope(message: unknown, key: string): Buffer {
  const payload = deflateSync(Buffer.from(JSON.stringify(message), 'utf8'), { level: constants.Z_BEST_COMPRESSION });
  return Buffer.concat([payload, signature(payload, key)]);
}
