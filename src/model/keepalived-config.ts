/**
 * @module model/keepalived-config
 * What the agent needs to know about an uploaded keepalived config without parsing it fully
 * (keepalived itself validates it): whether it has virtual servers (an LVS listener with a
 * pool), VRRP instances, and which protocol its virtual servers use. Comments are ignored.
 */
export interface KeepalivedConfigFacts {
  readonly virtualServers: boolean;
  readonly vrrpInstances: boolean;
  readonly protocol: 'UDP' | 'SCTP';
  /** The `net_namespace` the config names, if any. */
  readonly netns: string | null;
}

function withoutComments(text: string): string {
  return text
    .split('\n')
    .map((line) => line.replace(/[#!].*$/, ''))
    .join('\n');
}

export function inspectKeepalivedConfig(text: string): KeepalivedConfigFacts {
  const body = withoutComments(text);
  return {
    virtualServers: /^\s*virtual_server\s/m.test(body),
    vrrpInstances: /^\s*vrrp_instance\s/m.test(body),
    protocol: /^\s*protocol\s+SCTP\b/im.test(body) ? 'SCTP' : 'UDP',
    netns: /^\s*net_namespace\s+(\S+)/m.exec(body)?.[1] ?? null,
  };
}
