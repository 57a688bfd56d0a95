/**
 * @module test/support/lvs-render-fixtures
 * What the LVS render tests share: the render settings of a default amphora and a valid API 2.0
 * listener built from the fixture (deep-merged patch, schema defaults, the API's rules), so a
 * golden or a layout is only ever made from a listener the API would accept.
 */
import { listenerViolations } from '../../src/model/listener/rules.js';
import { listenerSchema, type Listener } from '../../src/model/listener/schema.js';
import type { LvsRenderSettings } from '../../src/render/lvs-view.js';
import { merge, udpListener } from './listener-fixtures.js';

export type Json = Record<string, unknown>;

export const LISTENER = 'eeeeeeee-0000-0000-0000-0000000000a1';

export const settings: LvsRenderSettings = {
  namespace: 'amphora-haproxy',
  sctpCheckCommand: '/usr/bin/amphora-health-checker',
};

/** The fixture with `patch` deep-merged, through the schema (defaults filled) and the API's rules. */
export const listener = (patch: Json = {}): Listener => {
  const l = listenerSchema.parse(merge(udpListener(), patch));
  const violations = listenerViolations(l, { udpConnectMinDelay: 3 });
  if (violations.length > 0) throw new Error(`not a valid listener: ${JSON.stringify(violations)}`);
  return l;
};

export const monitor = (patch: Json): Json => ({ default_pool: { health_monitor: patch } });
