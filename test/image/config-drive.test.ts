/**
 * @module test/image/config-drive.test
 * The image tier's config drive (test/image/lib/config-drive.mjs), checked on the host without a VM:
 * the ISO made by the real genisoimage reads back (isoinfo) as a config drive v2 whose every
 * meta_data `files` entry points at exactly the controller's file, and network_data.json gives the
 * management NIC DHCP for IPv4 as Nova does; the built-in agent config and
 * user_data equal what Octavia 11's own templaters render (python3-octavia), so the fallback is
 * honest; and the user_data with the probe is still YAML with Octavia's runcmd entry first.
 * Skips with its reason when genisoimage or python3-octavia is missing (fails under CI).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: plain JavaScript module of the image tier (no types)
import * as drive from './lib/config-drive.mjs';
import { SHARED_DIR } from '../support/agent-paths.js';
import { tierCanRun } from '../support/requirements.js';

const GEN_CERTS = join(SHARED_DIR, 'tools', 'octavia-ref', 'gen-certs.sh');
const canRun = tierCanRun('image tier: config drive', { binaries: ['genisoimage', 'isoinfo', 'openssl'], python: 'octavia', files: [GEN_CERTS] });
const AMP = '13131313-2222-4333-8444-555555555555';

describe.skipIf(!canRun)('config drive as Octavia 11 and Nova make it', () => {
  let dir: string;
  let iso: string;
  let files: Record<string, string>;
  let userData: string;
  const isoFile = (path: string) => execFileSync('isoinfo', ['-R', '-i', iso, '-x', path], { encoding: 'utf8' });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'image-config-drive-'));
    execFileSync('bash', [GEN_CERTS, join(dir, 'pki'), AMP], { stdio: 'ignore' });
    const texts = drive.controllerTexts({ amphoraId: AMP });
    files = drive.controllerFiles({ pki: join(dir, 'pki'), texts });
    userData = drive.withProbe(texts.user_data, '#!/bin/bash\necho probe\n');
    iso = join(dir, 'config-2.iso');
    drive.makeConfigDrive({ dir: join(dir, 'drive'), iso, amphoraId: AMP, files, userData, mgmtMac: 'fa:16:3e:13:00:01' });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is an ISO 9660 volume labelled config-2 whose meta_data files point at the controller files', () => {
    expect(execFileSync('isoinfo', ['-d', '-i', iso], { encoding: 'utf8' })).toMatch(/^Volume id: config-2$/m);
    const meta = JSON.parse(isoFile('/openstack/latest/meta_data.json'));
    expect(meta.hostname).toBe(`amphora-${AMP}`);
    expect(meta.uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(meta.files.map((f: { path: string }) => f.path).sort()).toEqual(Object.keys(files).sort());
    for (const f of meta.files) expect(isoFile(`/openstack${f.content_path}`)).toBe(files[f.path]);
    expect(files['/etc/octavia/amphora-agent.conf']).toContain(`amphora_id = ${AMP}`);
    expect(files['/etc/octavia/certs/server.pem']).toContain('PRIVATE KEY');
    expect(isoFile('/openstack/latest/user_data')).toBe(userData);
    const net = JSON.parse(isoFile('/openstack/latest/network_data.json'));
    expect(net.links).toEqual([expect.objectContaining({ ethernet_mac_address: 'fa:16:3e:13:00:01', mtu: 1500 })]);
    expect(net.networks).toEqual([expect.objectContaining({ id: 'network0', type: 'ipv4_dhcp', link: net.links[0].id })]);
  });

  it("renders the same agent config and user_data as Octavia's templaters", () => {
    const octavia = drive.controllerTexts({ amphoraId: AMP });
    expect(octavia.source).toBe('octavia');
    expect(drive.renderAgentConf({ amphoraId: AMP, heartbeat: '127.0.0.1:5555', heartbeatKey: 'insecure' })).toBe(octavia.agent_conf);
    const strip = (s: string) => s.replace(/^#(?!cloud-config).*\n/gm, '');
    expect(strip(octavia.user_data)).toBe(strip('#cloud-config\n\nruncmd:\n-   systemctl restart rsyslog\n\n\ntimezone: UTC'));
  });

  it("adds the probe to Octavia's user_data as YAML cloud-init reads (runcmd order kept)", () => {
    const parsed = JSON.parse(
      execFileSync('/usr/bin/python3', ['-c', 'import json,sys,yaml; print(json.dumps(yaml.safe_load(sys.stdin)))'], { input: userData, encoding: 'utf8' }),
    );
    expect(userData.startsWith('#cloud-config\n')).toBe(true);
    expect(parsed.runcmd).toEqual(['systemctl restart rsyslog', ['bash', drive.PROBE_GUEST_PATH]]);
    expect(parsed.timezone).toBe('UTC');
    expect(parsed.write_files).toEqual([{ path: drive.PROBE_GUEST_PATH, permissions: '0700', encoding: 'b64', content: Buffer.from('#!/bin/bash\necho probe\n').toString('base64') }]);
  });
});
