/**
 * @module test/controller/verdict.test
 * The controller tier's verdict (lib/verdict.mjs): which steps count, how calls are named and
 * compared with the reference's, and where a failing agent stops. The tier itself needs the
 * real control plane (npm run test:controller); this is its pure part.
 */
import { describe, expect, it } from 'vitest';
import { nameIds, reportedOnly, sameCalls, summarize, type ScenarioStep } from './lib/verdict.mjs';

const AMP = '9c6e0a27-36a9-4f0d-aa67-f00877aeb78f';
const LB = '0d4e8b35-7f0a-4d65-9d7b-6c1a9b5e2f10';
const step = (name: string, outcome: ScenarioStep['outcome'], calls: string[] = []): ScenarioStep => ({
  step: name,
  outcome,
  seconds: outcome === 'skipped' ? null : 1.5,
  status: outcome === 'passed' ? 'ACTIVE/ONLINE' : 'ERROR/OFFLINE',
  calls,
});

describe('which steps count', () => {
  it('reports ONLINE (heartbeats) without counting it, in both scenarios', () => {
    expect(reportedOnly('http', 'lb-online', { ipvs: false })).toMatch(/heartbeats/);
    expect(reportedOnly('udp', 'member-online', { ipvs: true })).toMatch(/heartbeats/);
  });
  it('counts the UDP steps past the listener only where the kernel has IPVS', () => {
    for (const s of ['pool-create', 'member-create', 'hm-create']) {
      expect(reportedOnly('udp', s, { ipvs: false })).toMatch(/IPVS/);
      expect(reportedOnly('udp', s, { ipvs: true })).toBeNull();
      expect(reportedOnly('http', s, { ipvs: false })).toBeNull();
    }
    expect(reportedOnly('udp', 'listener-create', { ipvs: false })).toBeNull();
  });
});

describe('calls', () => {
  it('names the run ids wherever they appear', () => {
    expect(nameIds(`PUT /1.0/loadbalancer/${AMP}/${LB}/haproxy 202`, { amp: AMP, lb: LB })).toBe(
      'PUT /1.0/loadbalancer/{amp}/{lb}/haproxy 202',
    );
  });
  it("takes our logged `GET /` for the controller's `GET //`, and nothing else", () => {
    expect(sameCalls(['GET / 200', 'GET /1.0/info 200'], ['GET // 200', 'GET /1.0/info 200'])).toBe(true);
    expect(sameCalls(['GET / 200'], ['GET // 404'])).toBe(false);
    expect(sameCalls(['POST /1.0/plug/vip/198.51.100.1 404'], ['POST /1.0/plug/vip/198.51.100.1 202'])).toBe(false);
    expect(sameCalls(['GET / 200'], ['GET // 200', 'GET /1.0/info 200'])).toBe(false);
  });
});

describe('summarize', () => {
  const ref = summarize({
    scenario: 'http',
    agent: 'ref',
    steps: [step('lb-create', 'passed', ['GET // 200', 'POST /1.0/plug/vip/198.51.100.1 202']), step('lb-online', 'passed')],
    ids: {},
    seconds: 20,
    timedOut: false,
    ipvs: false,
  });

  it('passes an agent that passed every step that counts', () => {
    expect(ref.ok).toBe(true);
    expect(ref.failed_steps).toEqual([]);
  });

  it('says where our agent stops and which call failed, and compares its calls with the reference', () => {
    const ours = summarize({
      scenario: 'http',
      agent: 'ts',
      steps: [
        step('lb-create', 'failed', ['GET / 200', 'POST /1.0/plug/vip/198.51.100.1 404']),
        step('lb-online', 'skipped'),
        step('listener-create', 'skipped'),
        step('lb-delete', 'passed'),
      ],
      ids: {},
      seconds: 9,
      timedOut: false,
      ipvs: false,
      ref,
    });
    expect(ours.ok).toBe(false);
    expect(ours.failed_steps).toEqual(['lb-create']);
    expect(ours.not_run).toEqual(['listener-create']);
    expect(ours.stops_at).toEqual({ step: 'lb-create', status: 'ERROR/OFFLINE', failing_calls: ['POST /1.0/plug/vip/198.51.100.1 404'] });
    expect(ours.steps[0]?.same_calls_as_ref).toBe(false);
    expect(ours.steps[1]?.required).toBe(false);
  });

  it('fails a scenario that printed no step or hit its time limit', () => {
    expect(summarize({ scenario: 'udp', agent: 'ts', steps: [], ids: {}, seconds: 1, timedOut: false, ipvs: false }).ok).toBe(false);
    const late = summarize({ scenario: 'udp', agent: 'ts', steps: [step('lb-create', 'passed')], ids: {}, seconds: 1, timedOut: true, ipvs: false });
    expect(late.ok).toBe(false);
    expect(late.timed_out).toBe(true);
  });
});
