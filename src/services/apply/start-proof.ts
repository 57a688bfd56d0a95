/**
 * @module services/apply/start-proof
 * What proves a start beyond live processes (issue 14 item 11): a daemon that is alive when the
 * settle delay ends may still die, or never serve, a moment later. For an LVS keepalived the fact
 * is its virtual servers in the namespace's IPVS table: keepalived adds them once its checker has
 * read the config, so a keepalived that is still alive but could not program IPVS (no `ip_vs`
 * module, a refused service) answers 500 instead of 202. haproxy needs nothing here: its `ready`
 * line ("Loading success.") comes after it bound every socket, and a bind failure ends it.
 */
import type { LvsLayout } from '../../model/lvs-layout.js';
import { ipvsEndpoint, ipvsServiceState, type IpvsProtocol } from '../../system/ipvs.js';
import type { ProcessRunner } from '../../system/exec.js';

/** One look for the fact: it holds, or what is missing and whether looking again can help. */
export type ProofLook = { readonly holds: true } | { readonly holds: false; readonly why: string; readonly final: boolean };

/** Looked at after the processes are up, until the start's deadline. */
export type StartProof = () => Promise<ProofLook>;

export interface ExpectedService {
  readonly protocol: IpvsProtocol;
  readonly address: string;
  readonly port: number;
}

const familyOf = (address: string) => (address.includes(':') ? 6 : 4);

/**
 * The IPVS services a keepalived running this layout must have made: each virtual server that has
 * an enabled member of its address family. keepalived leaves a virtual server without real
 * servers out of IPVS ("has no real servers - ignoring"), and a disabled listener has none.
 */
export function expectedServices(protocol: IpvsProtocol, layout: LvsLayout): ExpectedService[] {
  if (layout.listenerDisabled || layout.pool === null) return [];
  const families = new Set(layout.pool.members.filter((m) => !m.disabled && m.address !== null).map((m) => familyOf(m.address as string)));
  return layout.virtualServers.filter((v) => families.has(familyOf(v.address))).map((v) => ({ protocol, address: v.address, port: v.port }));
}

/** The proof for an LVS listener's start; undefined when its config puts nothing in IPVS. */
export function lvsStartProof(runner: ProcessRunner, ipvsadm: () => string, netns: string, protocol: IpvsProtocol, layout: LvsLayout): StartProof | undefined {
  const wanted = expectedServices(protocol, layout);
  if (wanted.length === 0) return undefined;
  return async () => {
    const missing: ExpectedService[] = [];
    for (const service of wanted) {
      const state = await ipvsServiceState(runner, ipvsadm(), netns, service);
      if (typeof state === 'object') return { holds: false, why: `its virtual servers cannot be in IPVS: ${state.unavailable}`, final: true };
      if (state === 'absent') missing.push(service);
    }
    if (missing.length === 0) return { holds: true };
    const names = missing.map((m) => `${m.protocol} ${ipvsEndpoint(m.address, m.port)}`);
    return { holds: false, why: `its virtual servers are not in IPVS in namespace ${netns}: ${names.join(', ')}`, final: false };
  };
}
