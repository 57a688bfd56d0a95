import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { octaviaUnwrap, openDatagram } from '../../../test/support/heartbeat-datagrams.js';
import { SYSTEM_PYTHON } from '../../../test/support/octavia-client.js';
import { tierCanRun } from '../../../test/support/requirements.js';
import { SIGNATURE_LENGTH, wrapEnvelope } from './envelope.js';
import { buildHeartbeatMessage } from './message.js';
import { haproxyLb, lvsListener } from './samples.fixtures.js';

const KEY = 'insecure-Schlüssel';
const message = buildHeartbeatMessage(
  '11111111-2222-3333-4444-555555555555',
  41,
  { haproxy: [haproxyLb()], lvs: [lvsListener()] },
  new Map([['aaaaaaaa-0000-0000-0000-000000000001', { bin: 10, bout: 20, stot: 3, ereq: 1 }]]),
);

describe('wrapEnvelope', () => {
  it('is zlib data followed by 64 lower-case hex characters', () => {
    const bytes = wrapEnvelope(message, KEY);
    // zlib header of level 9 (best compression): 0x78 0xDA
    expect([bytes[0], bytes[1]]).toEqual([0x78, 0xda]);
    expect(bytes.subarray(bytes.length - SIGNATURE_LENGTH).toString('ascii')).toMatch(/^[0-9a-f]{64}$/);
    expect(openDatagram(bytes, KEY)).toEqual(message);
  });
});

const canRun = tierCanRun('heartbeat envelope against Octavia status_message', { python: 'octavia' });

describe.skipIf(!canRun)("Octavia's own unwrap_envelope (python3-octavia)", { timeout: 120_000 }, () => {
  it('decodes the datagram, with the right key, to the same object', async () => {
    expect(await octaviaUnwrap(wrapEnvelope(message, KEY), KEY)).toEqual({ message });
  });

  it('raises InvalidHMACException with another key', async () => {
    expect(await octaviaUnwrap(wrapEnvelope(message, KEY), 'another key')).toEqual({ error: 'InvalidHMACException' });
  });

  it('raises InvalidHMACException when one byte of the payload is changed', async () => {
    const bytes = wrapEnvelope(message, KEY);
    bytes[5] = (bytes[5] ?? 0) ^ 0xff;
    expect(await octaviaUnwrap(bytes, KEY)).toEqual({ error: 'InvalidHMACException' });
  });

  // Deflate output is not canonical (Node's zlib and CPython's may pick other matches), so the
  // comparison is of what the controller computes: the decompressed text and the HMAC.
  it("carries our JSON text, and Octavia's get_hmac of our compressed bytes is our signature", () => {
    const bytes = wrapEnvelope(message, KEY);
    const script = `
import json, sys, zlib
from octavia.amphorae.backends.health_daemon import status_message
data = sys.stdin.buffer.read()
payload = data[:-64]
print(json.dumps({"text": zlib.decompress(payload).decode("utf-8"), "hmac": status_message.get_hmac(payload, sys.argv[1]).decode("ascii")}))
`;
    const theirs = JSON.parse(execFileSync(SYSTEM_PYTHON, ['-c', script, KEY], { input: bytes, encoding: 'utf8', timeout: 60_000 })) as { text: string; hmac: string };
    expect(theirs.text).toBe(JSON.stringify(message));
    expect(theirs.hmac).toBe(bytes.subarray(bytes.length - SIGNATURE_LENGTH).toString('ascii'));
  });
});
