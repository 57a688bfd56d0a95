/**
 * @module config/cross-checks
 * Rules that tie one option to another, checked after every option has its own valid value
 * (config/load.ts reports the first problem in one line, at the line of the option named). A file
 * that breaks one is refused at startup (exit 2) and by PUT /1.0/config (400), before it is
 * written. Pure.
 */
import { parseIpAddress } from '../model/ip-address.js';
import type { AgentConfig } from './schema.js';

export interface CrossOptionProblem {
  readonly section: string;
  readonly option: string;
  readonly problem: string;
}

/** 127.0.0.0/8, ::1, and IPv4-mapped 127.0.0.0/8: addresses no other host can reach. */
export function isLoopback(address: string | null): boolean {
  const ip = address === null ? undefined : parseIpAddress(address);
  if (ip === undefined) return false;
  if (ip.version === 4) return ip.bytes[0] === 127;
  const b = ip.bytes;
  const zeros = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  if (zeros(0, 15) && b[15] === 1) return true;
  return zeros(0, 10) && b[10] === 0xff && b[11] === 0xff && b[12] === 127;
}

export function crossOptionProblem(config: AgentConfig): CrossOptionProblem | null {
  const metrics = config.prometheus;
  // Without TLS anyone who reaches the port reads the amphora's traffic figures: only a loopback
  // address keeps that to this host (docs/design/0007-metrics.md).
  if (metrics.enabled && !metrics.tls && !isLoopback(metrics.bind_host)) {
    return {
      section: 'prometheus',
      option: 'tls',
      problem: `tls = false needs a loopback bind_host (127.0.0.1 or ::1), not ${metrics.bind_host ?? 'none'}: set tls = true (mutual TLS with agent_server_ca) or bind to loopback`,
    };
  }
  return null;
}
