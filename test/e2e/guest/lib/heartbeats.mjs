/**
 * @module test/e2e/guest/lib/heartbeats
 * The agents' heartbeats as the health manager stand-in in guest/controller.py received them on
 * 127.0.0.1 and opened them with Octavia's own status_message.unwrap_envelope: the messages of
 * one amphora received after a moment (wall-clock ms, Date.now()), waiting for some, and one
 * listener's stats deltas summed over every message that carried it.
 */
import { waitFor } from './commands.mjs';
import { controller } from './controller.mjs';

async function ask(req) {
  const r = await controller.request(req);
  if (!r.ok) throw new Error(`controller ${req.op}: ${r.error}`);
  return r;
}

/** `{messages: [{t, msg}], rejected}`: amphora `amphoraId`'s messages received after `sinceMs`, and how many datagrams did not open. */
export const heartbeatsSince = (amphoraId, sinceMs) => ask({ op: 'heartbeats', amphora_id: amphoraId, since_ms: sinceMs });

/**
 * Polls the messages received after `sinceMs` until `pick(messages)` returns something, at most
 * `timeoutMs` (a heartbeat every 5 s; a bound for a hogged guest, not a time limit). `{ok, ms, value}` as waitFor.
 */
export function waitForHeartbeats(amphoraId, sinceMs, pick, timeoutMs = 120_000) {
  return waitFor(async () => pick((await heartbeatsSince(amphoraId, sinceMs)).messages), { timeoutMs, intervalMs: 1000 });
}

/** `{count, sums: {rx, tx, totconns, ereq}, first_t, last_t}` over every message of the amphora carrying the listener. */
export const listenerSums = (amphoraId, listenerId) => ask({ op: 'heartbeat_sums', amphora_id: amphoraId, listener_id: listenerId });
