/**
 * @module test/image/lib/probe-results
 * Reads the guest probe's results (guest/probe.sh) from the serial console log and judges them.
 * A result line is `AMPHORA-PROBE <name> <exit status> <base64 output>`; `end` closes the run.
 */
import { readFileSync } from 'node:fs';

/** { name: { rc, out } } for every complete result line in the console log so far. */
export function parseProbe(consoleLog) {
  let text = '';
  try {
    text = readFileSync(consoleLog, 'latin1');
  } catch {
    return {};
  }
  const found = {};
  for (const m of text.matchAll(/^AMPHORA-PROBE (\S+) (\d+) ([A-Za-z0-9+/=]*)\r?$/gm)) {
    found[m[1]] = { rc: Number(m[2]), out: Buffer.from(m[3], 'base64').toString('utf8') };
  }
  return found;
}

const first = (s) => (s ?? '').split('\n')[0].trim();
const field = (osRelease, key) => osRelease.match(new RegExp(`^${key}="?([^"\\n]*)"?$`, 'm'))?.[1] ?? null;

/** The distribution and versions the probe saw. */
export function probeFacts(r) {
  const os = r.os_release?.out ?? '';
  return {
    distribution: os ? { pretty_name: field(os, 'PRETTY_NAME'), id: field(os, 'ID'), version_id: field(os, 'VERSION_ID'), version_codename: field(os, 'VERSION_CODENAME') } : null,
    versions: {
      node: first(r.node?.out) || null,
      keepalived: first(r.keepalived?.out) || null,
      haproxy: first(r.haproxy?.out) || null,
      kernel: first(r.kernel?.out) || null,
      agent: first(r.agent?.out) || null,
      systemd: first(r.systemd?.out) || null,
    },
  };
}

const ok0 = (r, name) => r[name]?.rc === 0;

/** The checks the probe decides, as [{ name, ok, detail }]. A missing result fails its check. */
export function probeChecks(r) {
  const missing = (name) => (r[name] ? '' : `no result from the guest probe for "${name}"`);
  const checks = [];
  const add = (name, ok, detail) => checks.push({ name, ok: Boolean(ok), detail });
  add('systemd is PID 1', /\/systemd$/.test((r.pid1?.out ?? '').trim()), missing('pid1') || `/proc/1/exe -> ${r.pid1.out.trim()}`);
  add('modprobe ip_vs and IPVS UDP + TCP services with ipvsadm', ok0(r, 'ipvs') && /UDP\s+198\.51\.100\.10:53/.test(r.ipvs.out) && /TCP\s+198\.51\.100\.10:80/.test(r.ipvs.out) && /198\.51\.100\.20:8080\s+Masq\s+2/.test(r.ipvs.out), missing('ipvs') || r.ipvs.out.trim());
  add('tc modules of ONE_PACKET_SCHEDULING load and a flower+pedit+csum filter is accepted', ok0(r, 'tc_modules') && /pedit/.test(r.tc_modules.out) && /csum/.test(r.tc_modules.out), missing('tc_modules') || r.tc_modules.out.trim().slice(-1500));
  const stock = (r.stock_units?.out ?? '').trim().split('\n');
  add('stock keepalived.service and haproxy.service are not enabled', r.stock_units && stock.length === 2 && stock.every((s) => !/^enabled/.test(s.trim())), missing('stock_units') || `keepalived, haproxy: ${stock.join(', ')}`);
  add('amphora-agent.service is enabled and active', first(r.agent_unit?.out) === 'enabled' && first(r.agent_active?.out) === 'active', missing('agent_unit') || `enabled: ${first(r.agent_unit.out)}; active: ${first(r.agent_active?.out)}`);
  add('keepalived runs (--version)', ok0(r, 'keepalived') && /^Keepalived v\d/.test(r.keepalived.out), missing('keepalived') || first(r.keepalived.out));
  add('haproxy runs (-vv)', ok0(r, 'haproxy') && /^HAProxy version \d/.test(r.haproxy.out), missing('haproxy') || first(r.haproxy.out));
  add('node and the agent run', ok0(r, 'node') && ok0(r, 'agent'), missing('agent') || `node ${first(r.node?.out)}, agent ${first(r.agent.out)}`);
  return checks;
}
