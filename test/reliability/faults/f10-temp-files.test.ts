/**
 * Fault 10 (b) of issue 14: the temp files of an atomic write (`.server.pem.<hex>.tmp`: a full
 * copy of the private key) stayed for good when the agent died between creating and renaming
 * them. Here the real agent starts (startAgent in this process, a temporary root) over the
 * leftovers of such crashes planted where it writes: the certificate directory, base_path, a
 * load balancer's directory, the LVS directory and the configuration's directory. They must be
 * gone once it listens; files whose names the atomic write never makes stay.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import type { AgentHandle } from '../../../src/main.js';
import type { Uuid } from '../../../src/model/uuid.js';
import { createPaths } from '../../../src/system/paths.js';
import { GEN_CERTS, createAgentRoot, removeDir, startInProcess, type AgentRoot } from '../../support/agent-fixture.js';
import { tierCanRun } from '../../support/requirements.js';

const canRun = tierCanRun('reliability f10: temp files after a crash', { binaries: ['openssl'], files: [GEN_CERTS] });
const LB = 'aaaaaaaa-0000-4000-8000-000000000010' as Uuid;

describe.skipIf(!canRun)('f10: the temp files of interrupted atomic writes are removed at startup', () => {
  let root: AgentRoot;
  let agent: AgentHandle | undefined;
  const leftovers: string[] = [];
  const kept: string[] = [];

  beforeAll(async () => {
    root = await createAgentRoot({ overrides: { amphora_agent: { init_system: 'direct' } } });
    const paths = createPaths((await loadConfig([root.configFile])).config);
    const certDir = dirname(root.certFile);
    leftovers.push(
      join(certDir, '.server.pem.0123456789ab.tmp'),
      join(paths.base, '.amphora-agent-state.json.a1b2c3d4e5f6.tmp'),
      join(paths.haproxyDir(LB), '.haproxy.cfg.ffffffffffff.tmp'),
      join(paths.lvsDir, `.octavia-keepalivedlvs-${LB}.conf.000000000000.tmp`),
      join(dirname(root.configFile), '.amphora-agent.conf.abcdef012345.tmp'),
    );
    // not names writeFileAtomic makes
    kept.push(join(certDir, '.server.pem.tmp'), join(certDir, 'server.pem.0123456789ab.tmp'), join(paths.base, '.notes.0123456789ab.tmp.keep'));
    for (const f of [...leftovers, ...kept]) {
      await mkdir(dirname(f), { recursive: true });
      await writeFile(f, '-----BEGIN PRIVATE KEY-----\n', { mode: 0o600 });
    }
    agent = await startInProcess(root);
  });

  afterAll(async () => {
    await agent?.close();
    await removeDir(root?.dir);
  });

  it('removes every leftover and keeps the other files', () => {
    expect(leftovers.filter((f) => existsSync(f))).toEqual([]);
    expect(kept.filter((f) => !existsSync(f))).toEqual([]);
  });
});
