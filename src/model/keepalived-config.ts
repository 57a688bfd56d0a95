/**
 * @module model/keepalived-config
 * What the agent needs to know about an uploaded keepalived config without parsing it fully
 * (keepalived itself validates it): whether it has virtual servers (an LVS listener with a
 * pool), VRRP instances, and which protocol its virtual servers use; and what in it could make
 * keepalived run somewhere else than the amphora namespace (`namespaceFindings`). Comments are
 * ignored the way keepalived ignores them: from a `#` or `!` anywhere on a line.
 */
export interface KeepalivedConfigFacts {
  readonly virtualServers: boolean;
  readonly vrrpInstances: boolean;
  readonly protocol: 'UDP' | 'SCTP';
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
  };
}

/** A line's words as keepalived splits them: on white space, with braces words of their own. */
const words = (line: string): string[] => line.replace(/[{}]/g, ' $& ').split(/\s+/).filter((w) => w !== '');

/**
 * Keepalived features that rewrite the config before its keywords are read, so that no look at
 * the text can tell what keepalived will run (each seen with keepalived 2.2.7 to bring in a
 * `net_namespace` the text does not show): `include` of another file, `$NAME=` definitions and
 * `$NAME` substitutions, `@id`/`@^id` conditional lines and `~SEQ(...)` repetitions. The
 * controller's templates use none of them.
 */
const REWRITING: readonly [RegExp, string][] = [
  [/^include$/, 'include (another file would be read)'],
  [/^\$/, '$ definitions and substitutions'],
  [/^@/, '@ conditional lines'],
  [/^~SEQ/, '~SEQ repetitions'],
];

/**
 * Why keepalived could run this config outside `namespace`; empty when it cannot. keepalived
 * 2.2.7 takes the first top-level `net_namespace` (a brace on the same line does not stop it),
 * ignores one inside a block, and its `--config-test` checks nothing when that namespace is
 * missing. So every `net_namespace`, wherever it stands, must name `namespace` and nothing
 * else; `net_namespace_ipvs` (IPVS in another namespace, the host's when it names none) is never
 * the agent's; and the features that rewrite the text are refused. No `net_namespace` at all is
 * fine: the agent starts keepalived inside the namespace.
 */
export function namespaceFindings(text: string, namespace: string): string[] {
  const found = new Set<string>();
  for (const [index, line] of withoutComments(text).split('\n').entries()) {
    const at = `line ${index + 1}`;
    const ws = words(line);
    ws.forEach((word, i) => {
      if (word === 'net_namespace' && (ws[i + 1] !== namespace || (ws[i + 2] !== undefined && !/^[{}]$/.test(ws[i + 2] ?? '')))) {
        found.add(`${at}: net_namespace must name ${namespace} and nothing else (keepalived would run elsewhere)`);
      }
      if (word === 'net_namespace_ipvs') found.add(`${at}: net_namespace_ipvs is not allowed (IPVS outside ${namespace})`);
      for (const [re, what] of REWRITING) if (re.test(word)) found.add(`${at}: ${what} not allowed: the agent cannot tell which namespace keepalived would use`);
    });
  }
  return [...found];
}
