/**
 * @module services/metrics/status
 * Whether a member (or pool, or haproxy backend) status from the samples counts as up. The words
 * are those the heartbeat carries (haproxy's, and keepalived's RESTARTING): Octavia's health manager
 * makes UP, DRAIN (draining) and "no check" (no monitor) members serving ones, and DOWN, MAINT
 * (offline) and RESTARTING (not known yet) not. haproxy's transitional "UP 1/3" is still up and
 * "DOWN 1/2" still down, as haproxy itself counts them. Pure.
 */

const UP = new Set(['UP', 'DRAIN', 'no check']);

/** 1 for a status that serves traffic, else 0. */
export function upValue(status: string): number {
  return UP.has(status) || status.startsWith('UP ') ? 1 : 0;
}
