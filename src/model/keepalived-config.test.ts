import { describe, expect, it } from 'vitest';
import { inspectKeepalivedConfig } from './keepalived-config.js';

describe('inspectKeepalivedConfig', () => {
  it('sees virtual servers and the protocol of an LVS config', () => {
    const facts = inspectKeepalivedConfig('net_namespace x\nvirtual_server_group g {\n 1.2.3.4 53\n}\nvirtual_server group g {\n  protocol SCTP\n}\n');
    expect(facts).toEqual({ virtualServers: true, vrrpInstances: false, protocol: 'SCTP', netns: 'x' });
  });
  it('treats a disabled listener (namespace only) as having no virtual server', () => {
    expect(inspectKeepalivedConfig('# Listener disabled\n#virtual_server x {\nnet_namespace amphora-haproxy\n').virtualServers).toBe(false);
  });
  it('sees VRRP instances', () => {
    expect(inspectKeepalivedConfig('vrrp_instance a {\n}\n')).toEqual({ virtualServers: false, vrrpInstances: true, protocol: 'UDP', netns: null });
  });
});
