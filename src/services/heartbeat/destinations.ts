/**
 * @module services/heartbeat/destinations
 * Where heartbeats go: the entries of `[health_manager] controller_ip_port_list`, resolved once
 * per list (system resolver, first address) and taken in turn, one per heartbeat (round-robin).
 * An entry is `host:port`, split at its last colon, so a bare IPv6 address works (`fd00::1:5555`)
 * and so does a bracketed one (`[fd00::1]:5555`: Octavia master strips the brackets, Octavia 11
 * fails to resolve it). A new list (PUT /1.0/config) takes effect at the next heartbeat. Sockets
 * are behind the `DatagramSender` seam (system/udp-datagrams.ts).
 */
import type { Logger } from '../../log.js';
import type { DatagramSender, Destination } from '../../system/udp-datagrams.js';

export interface ControllerAddress {
  readonly host: string;
  readonly port: number;
}

/** `host:port` → its parts, brackets around the host removed; undefined when it is not that. */
export function parseControllerEntry(entry: string): ControllerAddress | undefined {
  const colon = entry.lastIndexOf(':');
  if (colon <= 0) return undefined;
  let host = entry.slice(0, colon).trim();
  const portText = entry.slice(colon + 1).trim();
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  const port = Number(portText);
  if (host === '' || !/^\d{1,5}$/.test(portText) || port > 65535) return undefined;
  return { host, port };
}

/** `address:port`, IPv6 addresses in brackets, for logs. */
export const describeDestination = (d: Destination): string => (d.family === 6 ? `[${d.address}]:${d.port}` : `${d.address}:${d.port}`);

/** The resolved destinations of the current list and whose turn it is. */
export class HeartbeatDestinations {
  private list: string | undefined;
  private resolved: Destination[] = [];
  /** Some entry did not resolve: the list is resolved again at the next heartbeat. */
  private incomplete = false;
  private turn = 0;

  constructor(
    private readonly datagrams: DatagramSender,
    private readonly log: Logger,
  ) {}

  /** The destination of the next heartbeat for `entries` (undefined: none resolves). */
  async next(entries: readonly string[]): Promise<Destination | undefined> {
    const key = entries.join(',');
    if (key !== this.list || this.incomplete) await this.resolve(entries, key !== this.list);
    this.list = key;
    if (this.resolved.length === 0) return undefined;
    const destination = this.resolved[this.turn % this.resolved.length];
    this.turn = (this.turn + 1) % this.resolved.length;
    return destination;
  }

  private async resolve(entries: readonly string[], changed: boolean): Promise<void> {
    const found: Destination[] = [];
    let incomplete = false;
    for (const entry of entries) {
      const address = parseControllerEntry(entry);
      try {
        if (address === undefined) throw new Error('not host:port');
        found.push(await this.datagrams.resolve(address.host, address.port));
      } catch (err) {
        incomplete = true;
        // logged as an error once per list; the retries of the following heartbeats at debug
        this.log[changed ? 'error' : 'debug']({ entry, err }, 'cannot resolve a controller_ip_port_list entry; heartbeats skip it');
      }
    }
    this.incomplete = incomplete;
    const before = this.resolved.map(describeDestination).join(',');
    const after = found.map(describeDestination).join(',');
    if (after !== before) {
      this.resolved = found;
      this.turn = 0;
      this.log.info({ destinations: found.map(describeDestination) }, 'heartbeat destinations');
    }
  }
}
