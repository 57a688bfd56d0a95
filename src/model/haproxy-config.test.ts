import { describe, expect, it } from 'vitest';
import { haproxyFrontends, haproxyPeerName, haproxyServerStateFile, withoutGlobalGroup } from './haproxy-config.js';

describe('haproxyPeerName', () => {
  // expected names computed with python3-octavia 11: base64_sha1_string(id).rstrip('=')
  it("gives the reference's name for the contract's example amphora id", () => {
    expect(haproxyPeerName('11111111-2222-3333-4444-555555555555')).toBe('l9IvhlJXHEKslNZJNrp406vOEoI');
  });

  it('uses _ and - for + and /', () => {
    expect(haproxyPeerName('00000000-0000-0000-0000-00000001e14b')).toBe('fC4RFbFl-9_CCZ587ecxF0JNRtQ');
  });

  it('makes a leading - an x (haproxy would take it for an option)', () => {
    expect(haproxyPeerName('00000000-0000-0000-0000-00000005a03c')).toBe('xjukT32WS9wIgk1sfvmKWcGILc8');
  });
});

/** The shape Octavia's combined-listeners template renders (trimmed). */
const CONFIG = `# Configuration for loadbalancer lb1
global
    daemon
    user nobody
    group nogroup
    log /run/rsyslog/octavia/log local0
    stats socket /var/lib/octavia/lb1.sock mode 0666 level user

defaults
    log global
    retries 3

frontend 11111111-0000-0000-0000-000000000001
    maxconn 50000
    bind 203.0.113.10:80
    mode http
    default_backend pool1:11111111-0000-0000-0000-000000000001

frontend 11111111-0000-0000-0000-000000000002
    bind 203.0.113.10:443 ssl crt-list /var/lib/octavia/certs/lb1/11111111-0000-0000-0000-000000000002.pem
    mode http

frontend 11111111-0000-0000-0000-000000000003
    bind 203.0.113.10:22
    mode tcp # a comment: mode http

backend pool1:11111111-0000-0000-0000-000000000001
    mode http
    server m1 192.0.2.11:80 weight 1

userlist admins
    group ops users alice
    user alice insecure-password x
`;

describe('haproxyFrontends', () => {
  it('types each frontend by its mode, and TERMINATED_HTTPS when a bind line serves a crt-list', () => {
    expect(haproxyFrontends(CONFIG)).toEqual([
      { id: '11111111-0000-0000-0000-000000000001', type: 'HTTP' },
      { id: '11111111-0000-0000-0000-000000000002', type: 'TERMINATED_HTTPS' },
      { id: '11111111-0000-0000-0000-000000000003', type: 'TCP' },
    ]);
  });

  it("takes the defaults' mode, else haproxy's (tcp), for a frontend without one", () => {
    expect(haproxyFrontends('defaults\n  mode http\nfrontend a\n  bind :80\n')).toEqual([{ id: 'a', type: 'HTTP' }]);
    expect(haproxyFrontends('frontend a\n  bind :80\n')).toEqual([{ id: 'a', type: 'TCP' }]);
  });

  it('finds none in a config without frontends (every listener disabled)', () => {
    expect(haproxyFrontends('global\n    stats socket /x.sock\n')).toEqual([]);
  });
});

describe('withoutGlobalGroup', () => {
  it("removes the global section's group line and keeps a userlist's groups", () => {
    const out = withoutGlobalGroup(CONFIG);
    expect(out).not.toMatch(/^\s+group nogroup$/m);
    expect(out).toMatch(/^\s+group ops users alice$/m);
    expect(out.split('\n')).toHaveLength(CONFIG.split('\n').length - 1);
    expect(out.replace(/^\s+group nogroup\n/m, '')).toBe(out);
  });

  it('leaves a config without a group line as it is', () => {
    const text = 'global\n    user nobody\n\nfrontend a\n    bind :80\n';
    expect(withoutGlobalGroup(text)).toBe(text);
  });
});

describe('haproxyServerStateFile', () => {
  const LB = '/var/lib/octavia/7b1c5a4e-2f0e-4a4c-9d0f-3f1b8a1f9e11';
  const cfg = (...global: string[]) => `global\n${global.map((l) => `    ${l}\n`).join('')}\nbackend b\n    load-server-state-from-file global\n    server-state-file /elsewhere\n`;

  it("reads Octavia's global directive", () => {
    expect(haproxyServerStateFile(cfg('daemon', `server-state-file ${LB}/servers-state`))).toBe(`${LB}/servers-state`);
  });

  it('normalizes dot segments, so the caller compares the file haproxy really opens', () => {
    expect(haproxyServerStateFile(cfg(`server-state-file ${LB}/../x/../${LB.split('/').at(-1)}/servers-state`))).toBe(`${LB}/servers-state`);
    expect(haproxyServerStateFile(cfg(`server-state-file ${LB}/../amphora-agent-state.json`))).toBe('/var/lib/octavia/amphora-agent-state.json');
  });

  it('joins a relative name to an absolute server-state-base, and leaves it relative without one', () => {
    expect(haproxyServerStateFile(cfg(`server-state-base ${LB}/`, 'server-state-file servers-state'))).toBe(`${LB}/servers-state`);
    expect(haproxyServerStateFile(cfg('server-state-file servers-state'))).toBe('servers-state');
    expect(haproxyServerStateFile(cfg('server-state-base relative', 'server-state-file servers-state'))).toBe('servers-state');
  });

  it('is undefined without the directive in global (a backend line does not count), and ignores comments', () => {
    expect(haproxyServerStateFile(cfg('daemon'))).toBeUndefined();
    expect(haproxyServerStateFile(cfg(`# server-state-file ${LB}/servers-state`))).toBeUndefined();
  });
});
