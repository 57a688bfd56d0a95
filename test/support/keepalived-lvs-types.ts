/**
 * @module test/support/keepalived-lvs-types
 * The LVS part of a keepalived config as test/support/keepalived-lvs-parse.ts reads it: virtual
 * servers, real servers and their checks, every value as written and every directive the parser
 * does not know kept in an `other` list. Types only.
 */

export interface LvsCheck {
  /** The block's keyword: MISC_CHECK, TCP_CHECK, HTTP_GET, PING_CHECK, … */
  readonly kind: string;
  readonly connectIp: string | null;
  readonly connectPort: number | null;
  /** connect_timeout, or misc_timeout for MISC_CHECK. */
  readonly timeout: number | null;
  /** misc_path as the argv keepalived runs (it splits the string on blanks). */
  readonly miscPath: readonly string[] | null;
  /** HTTP_GET/SSL_GET url blocks: `<path> <code>` per accepted code, ranges expanded, sorted. */
  readonly urls: readonly string[] | null;
  readonly other: readonly string[];
}

export interface LvsRealServer {
  readonly address: string;
  readonly port: number;
  readonly weight: number | null;
  readonly uthreshold: number | null;
  readonly checks: readonly LvsCheck[];
  readonly other: readonly string[];
}

export interface LvsVirtualServer {
  readonly family: 4 | 6;
  /** `addr:port` (`[addr]:port` for IPv6) of its group, or of the virtual_server itself; sorted. */
  readonly vips: readonly string[];
  readonly protocol: string | null;
  readonly scheduler: string | null;
  readonly lbKind: string | null;
  readonly ops: boolean;
  readonly persistenceTimeout: number | null;
  readonly persistenceGranularity: string | null;
  readonly delayLoop: number | null;
  readonly delayBeforeRetry: number | null;
  readonly retry: number | null;
  readonly realServers: readonly LvsRealServer[];
  readonly other: readonly string[];
}

export interface LvsConfig {
  readonly namespace: string | null;
  readonly virtualServers: readonly LvsVirtualServer[];
  /** Top-level directives other than net_namespace and the virtual servers and their groups. */
  readonly other: readonly string[];
}
