/**
 * @module test/reliability/faults/config-faults-kit
 * What the regression cases of issue 14 items 1, 2 and 3 share: the agent started in process on
 * a temporary root with the shared test PKI, reached over real mutual TLS as the controller
 * reaches it, and the contract they hold it to: a refused PUT is a 400 JSON `{message, details}`,
 * the file on disk is byte-identical, the running TLS server presents the same certificate and
 * answers, and the agent starts again from its files afterwards.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import type { AgentHandle } from '../../../src/main.js';
import { createAgentRoot, GEN_CERTS, makePki, removeDir, startInProcess, type AgentRoot, type ConfOverrides, type TestPki } from '../../support/agent-fixture.js';
import { mtlsRequest, type MtlsResponse, type TlsTarget } from '../../support/mtls-client.js';
import { tierCanRun } from '../../support/requirements.js';
import { sharedPki } from '../support/suite-agent.js';

export const run = promisify(execFile);

/** gen-certs.sh and openssl make the PKI and the weak certificates; the agent runs in this process. */
export const canRunTlsFaults = (item: string) => tierCanRun(`reliability ${item}`, { binaries: ['openssl', 'bash'], files: [GEN_CERTS] });

export class TlsAgent {
  agent: AgentHandle | undefined;
  private constructor(
    readonly work: string,
    readonly pki: TestPki,
    readonly root: AgentRoot,
    private readonly serverCa: string,
    private readonly clientPem: string,
  ) {}

  static async start(prefix: string, overrides?: ConfOverrides): Promise<TlsAgent> {
    const work = await mkdtemp(join(tmpdir(), prefix));
    // the run's one PKI when run.mjs names it (gen-certs.sh is slow), else one of our own
    const pki = (await sharedPki()) ?? (await makePki(join(work, 'pki')));
    const root = await createAgentRoot({ pki, parent: work, ...(overrides === undefined ? {} : { overrides }) });
    const t = new TlsAgent(work, pki, root, await readFile(pki.serverCaPem, 'utf8'), await readFile(pki.clientPem, 'utf8'));
    t.agent = await startInProcess(root);
    return t;
  }

  target(): TlsTarget {
    return { port: this.agent?.port ?? 0, ca: this.serverCa, servername: this.pki.amphoraId, clientPem: this.clientPem };
  }

  put(path: string, body: string): Promise<MtlsResponse> {
    return mtlsRequest(this.target(), { method: 'PUT', path, body });
  }

  /** GET // over mutual TLS: 200 and the certificate the agent presents. */
  async presented(): Promise<string | undefined> {
    const res = await mtlsRequest(this.target(), { path: '//' });
    expect(res.status).toBe(200);
    return res.peerFingerprint256;
  }

  /** Stops the agent and starts it again from the files on disk; it must answer over mutual TLS. */
  async restartFromFiles(): Promise<void> {
    await this.agent?.close();
    this.agent = undefined;
    this.agent = await startInProcess(this.root);
    expect((await mtlsRequest(this.target(), { path: '//' })).json()).toEqual({ api_version: '1.0' });
  }

  async stop(): Promise<void> {
    await this.agent?.close();
    await removeDir(this.work);
  }
}

/**
 * Sends a PUT that must be refused, and checks the contract: 400 JSON with message and details,
 * `file` byte-identical, the same certificate presented by a server that still answers.
 */
export async function expectRefusedBeforeWriting(t: TlsAgent, path: string, body: string, file: string, details: RegExp): Promise<void> {
  const before = await readFile(file);
  const presented = await t.presented();
  const res = await t.put(path, body);
  expect(res.status, res.body).toBe(400);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.json()).toMatchObject({ message: expect.any(String), details: expect.stringMatching(details) });
  expect(await readFile(file)).toEqual(before);
  expect(await t.presented()).toBe(presented);
}
