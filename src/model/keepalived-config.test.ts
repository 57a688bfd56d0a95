import { describe, expect, it } from 'vitest';
import { inspectKeepalivedConfig, namespaceFindings } from './keepalived-config.js';

describe('inspectKeepalivedConfig', () => {
  it('sees virtual servers and the protocol of an LVS config', () => {
    const facts = inspectKeepalivedConfig('net_namespace x\nvirtual_server_group g {\n 1.2.3.4 53\n}\nvirtual_server group g {\n  protocol SCTP\n}\n');
    expect(facts).toEqual({ virtualServers: true, vrrpInstances: false, protocol: 'SCTP' });
  });
  it('treats a disabled listener (namespace only) as having no virtual server', () => {
    expect(inspectKeepalivedConfig('# Listener disabled\n#virtual_server x {\nnet_namespace amphora-haproxy\n').virtualServers).toBe(false);
  });
  it('sees VRRP instances', () => {
    expect(inspectKeepalivedConfig('vrrp_instance a {\n}\n')).toEqual({ virtualServers: false, vrrpInstances: true, protocol: 'UDP' });
  });
});

describe('namespaceFindings', () => {
  const NS = 'amphora-haproxy';
  it('accepts the controller\'s forms: our namespace once, or none at all, comments included', () => {
    expect(namespaceFindings('# net_namespace is set below\nnet_namespace amphora-haproxy\nvirtual_server_group g {\n}\n', NS)).toEqual([]);
    expect(namespaceFindings('vrrp_instance a {\n  state MASTER\n}\n', NS)).toEqual([]);
    expect(namespaceFindings('net_namespace amphora-haproxy   # trailing comment\n', NS)).toEqual([]);
  });
  it('refuses every net_namespace that names anything else: later ones, inside blocks, after a brace', () => {
    expect(namespaceFindings('virtual_server_group g {\nnet_namespace amphora-haproxy\n}\nnet_namespace evil\n', NS)).toEqual([
      'line 4: net_namespace must name amphora-haproxy and nothing else (keepalived would run elsewhere)',
    ]);
    expect(namespaceFindings('global_defs {\n}  net_namespace evil\n', NS)).toHaveLength(1);
    expect(namespaceFindings('global_defs {}net_namespace evil\n', NS)).toHaveLength(1);
    expect(namespaceFindings('net_namespace "amphora-haproxy"\n', NS)).toHaveLength(1);
    expect(namespaceFindings('net_namespace\n', NS)).toHaveLength(1);
    expect(namespaceFindings('net_namespace amphora-haproxy extra\n', NS)).toHaveLength(1);
    // keepalived cuts the word at the comment sign: "evil"
    expect(namespaceFindings('net_namespace evil#amphora-haproxy\n', NS)).toHaveLength(1);
  });
  it('refuses net_namespace_ipvs and the features that rewrite the text before keepalived reads it', () => {
    for (const text of ['net_namespace_ipvs\n', 'include /tmp/x.conf\n', '$NS=evil\nnet_namespace $NS\n', '@^other net_namespace evil\n', '~SEQ(i,1,1) net_namespace evil\n', '} include /tmp/x\n']) {
      expect(namespaceFindings(text, NS), text).not.toEqual([]);
    }
  });
});
