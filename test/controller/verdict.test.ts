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
  it('counts the heartbeat steps (ONLINE, ERROR, recovery, failover) for both scenarios', () => {
    for (const s of ['lb-online', 'member-online', 'member-error', 'member-recover', 'failover', 'traffic-failover']) {
      expect(reportedOnly('http', s, { ipvs: false })).toBeNull();
    }
    expect(reportedOnly('udp', 'lb-online', { ipvs: false })).toBeNull();
  });
  it('counts the UDP steps past the listener only where the kernel has IPVS', () => {
    for (const s of ['pool-create', 'member-create', 'hm-create']) {
      expect(reportedOnly('udp', s, { ipvs: false })).toMatch(/IPVS/);
      expect(reportedOnly('udp', s, { ipvs: true })).toBeNull();
      expect(reportedOnly('http', s, { ipvs: false })).toBeNull();
    }
    expect(reportedOnly('udp', 'listener-create', { ipvs: false })).toBeNull();
  });
  it('reports the failover without counting it in a run that keeps the 600 s heartbeat_timeout', () => {
    expect(reportedOnly('http', 'failover', { ipvs: false, failover: false })).toMatch(/600/);
    expect(reportedOnly('http', 'traffic-failover', { ipvs: false, failover: false })).toMatch(/600/);
    expect(reportedOnly('http', 'member-error', { ipvs: false, failover: false })).toBeNull();
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
    host: { ipvs: false },
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
      host: { ipvs: false },
      ref,
    });
    expect(ours.ok).toBe(false);
    expect(ours.failed_steps).toEqual(['lb-create']);
    expect(ours.not_run).toEqual(['lb-online', 'listener-create']);
    expect(ours.stops_at).toEqual({ step: 'lb-create', status: 'ERROR/OFFLINE', failing_calls: ['POST /1.0/plug/vip/198.51.100.1 404'] });
    expect(ours.steps[0]?.same_calls_as_ref).toBe(false);
    expect(ours.steps[1]?.required).toBe(true);
  });

  it('fails an agent that sends no heartbeat at the ONLINE wait, and at the failover', () => {
    const silent = summarize({
      scenario: 'http',
      agent: 'ts',
      steps: [
        step('lb-create', 'passed', ['GET / 200', 'POST /1.0/plug/vip/198.51.100.1 202']),
        { ...step('lb-online', 'failed'), status: 'OFFLINE: no heartbeat from amphora x in 25 s' },
        step('failover', 'failed'),
        step('traffic-failover', 'skipped'),
      ],
      ids: {},
      seconds: 30,
      timedOut: false,
      host: { ipvs: false },
    });
    expect(silent.ok).toBe(false);
    expect(silent.failed_steps).toEqual(['lb-online', 'failover']);
    expect(silent.not_run).toEqual(['traffic-failover']);
    expect(silent.stops_at).toEqual({ step: 'lb-online', status: 'OFFLINE: no heartbeat from amphora x in 25 s', failing_calls: [] });
  });

  it("compares the replacement amphora's calls in the failover, by name", () => {
    const calls = (amp: string) => ['GET // 200', `PUT /1.0/loadbalancer/${amp}/${LB}/haproxy 202`, `PUT /1.0/loadbalancer/${LB}/reload 202`];
    const run = (agent: string, amp: string, against?: ReturnType<typeof summarize>) =>
      summarize({
        scenario: 'http',
        agent,
        steps: [step('failover', 'passed', calls(amp))],
        ids: { lb: LB, failover_amp: amp },
        seconds: 60,
        timedOut: false,
        host: { ipvs: false },
        ref: against,
      });
    const refRun = run('ref', AMP);
    expect(refRun.steps[0]?.calls[1]).toBe('PUT /1.0/loadbalancer/{failover_amp}/{lb}/haproxy 202');
    const ours = run('ts', '5b1c3f4e-8d2a-4c7b-9e0f-1a2b3c4d5e6f', refRun);
    expect(ours.steps[0]?.same_calls_as_ref).toBe(true);
  });

  it('passes a run without a failover (--agents swap keeps the 600 s timeout) whose failover was skipped', () => {
    const swap = summarize({
      scenario: 'http',
      agent: 'swap',
      steps: [step('lb-create', 'passed'), step('failover', 'skipped'), step('traffic-failover', 'skipped')],
      ids: {},
      seconds: 60,
      timedOut: false,
      host: { ipvs: false, failover: false },
    });
    expect(swap.ok).toBe(true);
    expect(swap.steps[1]?.reported_only).toMatch(/600/);
  });

  it('fails a scenario that printed no step or hit its time limit', () => {
    expect(summarize({ scenario: 'udp', agent: 'ts', steps: [], ids: {}, seconds: 1, timedOut: false, host: { ipvs: false } }).ok).toBe(false);
    const late = summarize({ scenario: 'udp', agent: 'ts', steps: [step('lb-create', 'passed')], ids: {}, seconds: 1, timedOut: true, host: { ipvs: false } });
    expect(late.ok).toBe(false);
    expect(late.timed_out).toBe(true);
  });
});
