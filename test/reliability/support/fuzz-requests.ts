/**
 * @module test/reliability/support/fuzz-requests
 * fast-check arbitraries for requests to every route of API 1.0 and 2.0 (src/api/routes/*, the
 * contract in shared/docs/octavia-agent-api.md): each route with valid bodies, near-valid
 * mutations of them (a line cut, a field changed, a directive or newline injected), junk, huge
 * bodies, wrong content types, and ids that try path traversal, unicode and shell or config
 * syntax. Valid bodies come from the caller (`Seeds`, rendered once by Octavia's own templaters)
 * so that the fuzz also reaches the real keepalived and haproxy validation and starts.
 *
 * A valid LVS start cannot run here (no IPVS on this host): the seeds' LVS configs that run are
 * disabled listeners (no virtual_server); the one seed with a virtual_server is uploaded too, and
 * a start of it is the one 5xx the fuzz tells apart (see fuzz.test.ts).
 */
import fc from 'fast-check';

export interface FuzzRequest {
  readonly method: string;
  readonly path: string;
  readonly body?: Buffer;
  readonly headers?: Record<string, string>;
  /** Which raw config this request uploads, when it is a config upload (for the injection check). */
  readonly upload?: 'lvs' | 'haproxy' | 'vrrp';
  readonly route: string;
}

export interface Seeds {
  readonly amphoraId: string;
  /** Listener ids the fuzz keeps hitting, so that state builds up between requests. */
  readonly listenerIds: readonly string[];
  readonly lbIds: readonly string[];
  readonly lvsDisabled: string;
  readonly lvsWithVirtualServer: string;
  readonly vrrp: string;
  readonly haproxy: (port: number) => string;
  readonly modelV2: Record<string, unknown>;
  readonly certificatePem: string;
}

/** The marker every injected directive carries: a line of a written config that has it at a directive's place is an injection. */
export const MARKER = 'zzinjectedzz';

/** Directives and lines that must never appear in a config unless the uploaded text has them. */
export const INJECTIONS = [
  `\nnet_namespace ${MARKER}`,
  `\nvrrp_script ${MARKER} {\n  script "/bin/touch /tmp/${MARKER}"\n}`,
  `\n  notify_master "/bin/touch /tmp/${MARKER}"`,
  `\ninclude /etc/${MARKER}`,
  `\nglobal_defs {\n  script_user ${MARKER}\n}`,
  `\n  external-check command /bin/${MARKER}`,
  `\nlua-load /tmp/${MARKER}.lua`,
  `\r\n  bind 0.0.0.0:1 ${MARKER}`,
  `"\n  ${MARKER} "`,
  `}\n${MARKER} {`,
  `\\n${MARKER}`,
  `$(touch /tmp/${MARKER})`,
  `\`touch /tmp/${MARKER}\``,
  `; touch /tmp/${MARKER}`,
];

const TRAVERSAL_IDS = [
  '..', '.', '..%2F..%2Fetc%2Fpasswd', '%2e%2e%2f%2e%2e', '..%5C..', 'a%00b', '%0anet_namespace%20x', 'x'.repeat(300),
  '%C3%A9t%C3%A9', '%F0%9F%92%A3', '$(id)', '%3Breboot', '%20', '-rf', 'AAAAAAAA-0000-0000-0000-00000000000Z',
];

const CONTENT_TYPES = ['application/json', 'text/plain', 'application/octet-stream', 'multipart/form-data; boundary=x',
  'application/x-www-form-urlencoded', 'text/xml', 'application/json; charset=utf-16', ''];

const id = (pool: readonly string[]) =>
  fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...pool) }, { weight: 1, arbitrary: fc.constantFrom(...TRAVERSAL_IDS) },
    { weight: 1, arbitrary: fc.uuid() }, { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }).map(encodeURIComponent) });

/** Mutations of a text body: a cut, a line removed or duplicated, an injection, bytes flipped. */
function mutatedText(text: string): fc.Arbitrary<string> {
  const lines = text.split('\n');
  return fc.oneof(
    fc.nat({ max: text.length }).map((n) => text.slice(0, n)),
    fc.nat({ max: lines.length - 1 }).map((n) => lines.filter((_, i) => i !== n).join('\n')),
    fc.nat({ max: lines.length - 1 }).map((n) => [...lines.slice(0, n + 1), ...lines.slice(n)].join('\n')),
    fc.tuple(fc.nat({ max: lines.length }), fc.constantFrom(...INJECTIONS)).map(([n, inj]) => [...lines.slice(0, n), inj, ...lines.slice(n)].join('\n')),
    fc.tuple(fc.nat({ max: lines.length - 1 }), fc.constantFrom(...INJECTIONS)).map(([n, inj]) => lines.map((l, i) => (i === n ? l + inj : l)).join('\n')),
    fc.tuple(fc.nat({ max: Math.max(0, text.length - 1) }), fc.string({ unit: 'binary', minLength: 1, maxLength: 8 })).map(([n, s]) => text.slice(0, n) + s + text.slice(n + s.length)),
  );
}

const junk = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ unit: 'grapheme', maxLength: 200 }),
  fc.json({ maxDepth: 3 }),
  fc.constantFrom('', '{}', '[]', 'null', '"', '{"a":', '\u0000\u0000', '\uFEFF{}', '%', '\r\n\r\n'),
);

/** A body of about 1 MB (below max_request_body_bytes: the route's own parsing must refuse it). */
const huge = fc.constantFrom('A', '{"a":"', 'vrrp_instance x {\n', 'global\n').map((head) => head + 'x\n'.repeat(500_000));

function textBody(valid: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...valid) },
    { weight: 6, arbitrary: fc.constantFrom(...valid).chain(mutatedText) },
    { weight: 3, arbitrary: junk },
    { weight: 1, arbitrary: fc.constant(null).chain(() => fc.nat({ max: 19 })).chain((n) => (n === 0 ? huge : junk)) },
  );
}

/** Deep mutations of a JSON model: a field set to junk or an injection, removed, or the whole thing replaced. */
function mutatedModel(model: Record<string, unknown>): fc.Arbitrary<string> {
  const keys = Object.keys(model);
  const value = fc.oneof(fc.constantFrom(...INJECTIONS), fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(-1, 0, 65536, 1e308, '', null, [], {}));
  return fc.oneof(
    fc.constant(JSON.stringify(model)),
    fc.tuple(fc.constantFrom(...keys), value).map(([k, v]) => JSON.stringify({ ...model, [k]: v })),
    fc.constantFrom(...keys).map((k) => JSON.stringify(Object.fromEntries(Object.entries(model).filter(([key]) => key !== k)))),
    fc.tuple(fc.constantFrom(...INJECTIONS), fc.nat({ max: 1 })).map(([inj, n]) => JSON.stringify({ ...model, ...(n ? { name: inj } : { description: inj }), default_pool: { ...(model['default_pool'] as object), name: inj } })),
    fc.tuple(fc.constantFrom(...INJECTIONS)).map(([inj]) => JSON.stringify({ ...model, vip_addresses: [`203.0.113.10${inj}`] })),
    junk,
  );
}

const withContentType = (arb: fc.Arbitrary<Omit<FuzzRequest, 'headers'>>): fc.Arbitrary<FuzzRequest> =>
  fc.tuple(arb, fc.option(fc.constantFrom(...CONTENT_TYPES), { freq: 3 })).map(([r, ct]) => (ct === null ? r : { ...r, headers: { 'content-type': ct } }));

const buf = (s: string) => Buffer.from(s, 'utf8');

/**
 * How fast-check prints a request in its counterexample: method, path, headers and the body as
 * text (cut at 3,000 characters), not a Buffer's bytes.
 */
function readable(r: FuzzRequest): FuzzRequest {
  const text = r.body === undefined ? '' : r.body.toString('utf8');
  const shown = text.length > 3000 ? `${text.slice(0, 3000)}… (${text.length} characters)` : text;
  return Object.assign(r, { [fc.toStringMethod]: () => `${r.method} ${r.path} ${JSON.stringify(r.headers ?? {})} body: ${JSON.stringify(shown)}` });
}

/** Requests to every route except PUT /1.0/config and PUT /1.0/certificate (see configRequests). */
export function routeRequests(s: Seeds): fc.Arbitrary<FuzzRequest> {
  const L = id(s.listenerIds);
  const LB = id(s.lbIds);
  const AMP = fc.oneof({ weight: 5, arbitrary: fc.constant(s.amphoraId) }, { weight: 1, arbitrary: id([s.amphoraId]) });
  const action = fc.constantFrom('start', 'stop', 'reload', 'restart', 'Start', 'junk', '..', 'reload%0a');
  const port = fc.integer({ min: 18100, max: 18140 });
  const g = (route: string, method: string, path: fc.Arbitrary<string>) => path.map((p) => ({ route, method, path: p }));
  const withBody = (route: string, method: string, path: fc.Arbitrary<string>, body: fc.Arbitrary<string>, upload?: FuzzRequest['upload']) =>
    withContentType(fc.tuple(path, body).map(([p, b]) => ({ route, method, path: p, body: buf(b), ...(upload ? { upload } : {}) })));
  const ip = fc.oneof(fc.ipV4(), fc.ipV6(), fc.constantFrom('203.0.113.10', '198.51.100.1', 'not-an-ip', '..', '1.2.3.4%0a'));
  const mac = fc.oneof(fc.constantFrom('02:aa:bb:cc:dd:01', '02:AA:BB:CC:DD:02', 'zz:zz', ''), fc.string({ maxLength: 20 }));
  const plugBody = fc.tuple(mac, fc.constantFrom(...INJECTIONS, '203.0.113.0/24', 'x'), fc.jsonValue({ maxDepth: 1 })).map(([m, cidr, extra]) =>
    JSON.stringify({ mac_address: m, subnet_cidr: cidr, gateway: '203.0.113.1', vrrp_ip: '203.0.113.5', mtu: 1500, host_routes: [], extra }));
  const rules = fc.oneof(
    fc.constant(JSON.stringify([{ protocol: 'TCP', cidr: '198.51.100.0/24', port: 80 }])),
    fc.tuple(fc.constantFrom(...INJECTIONS), fc.jsonValue({ maxDepth: 2 })).map(([inj, v]) => JSON.stringify([{ protocol: inj, cidr: v, port: 1 }])),
    junk,
  );
  return fc.oneof(
    g('GET /', 'GET', fc.constant('/')),
    g('GET /1.0/info', 'GET', fc.constant('/1.0/info')),
    { weight: 1, arbitrary: g('GET /1.0/details', 'GET', fc.constant('/1.0/details')) },
    g('GET /1.0/interface/:ip', 'GET', ip.map((a) => `/1.0/interface/${encodeURIComponent(a)}`)),
    withBody('PUT /1.0/interface/:ip/rules', 'PUT', ip.map((a) => `/1.0/interface/${encodeURIComponent(a)}/rules`), rules),
    withBody('PUT /2.0/listeners/:id', 'PUT', L.map((l) => `/2.0/listeners/${l}`), mutatedModel(s.modelV2)),
    withBody('POST /2.0/listeners/:id/validate', 'POST', L.map((l) => `/2.0/listeners/${l}/validate`), mutatedModel(s.modelV2)),
    g('GET /2.0/listeners/:id', 'GET', L.map((l) => `/2.0/listeners/${l}`)),
    g('DELETE /2.0/listeners/:id', 'DELETE', L.map((l) => `/2.0/listeners/${l}`)),
    withBody('PUT /1.0/loadbalancer/:lb/certificates/:f', 'PUT',
      fc.tuple(LB, fc.constantFrom('a.pem', 'b.pem', '..%2Fx.pem', 'x', '.pem', 'a%20b.pem', '%0a.pem')).map(([lb, f]) => `/1.0/loadbalancer/${lb}/certificates/${f}`),
      textBody([s.certificatePem])),
    g('GET /1.0/loadbalancer/:lb/certificates/:f', 'GET', fc.tuple(LB, fc.constantFrom('a.pem', 'b.pem', '..%2Fserver.pem')).map(([lb, f]) => `/1.0/loadbalancer/${lb}/certificates/${f}`)),
    g('DELETE /1.0/loadbalancer/:lb/certificates/:f', 'DELETE', fc.tuple(LB, fc.constantFrom('a.pem', 'b.pem', '..%2Fserver.pem')).map(([lb, f]) => `/1.0/loadbalancer/${lb}/certificates/${f}`)),
    withBody('PUT /1.0/loadbalancer/:amp/:lb/haproxy', 'PUT', fc.tuple(AMP, LB).map(([a, lb]) => `/1.0/loadbalancer/${a}/${lb}/haproxy`),
      port.chain((p) => textBody([s.haproxy(p)])), 'haproxy'),
    g('GET /1.0/loadbalancer/:lb/haproxy', 'GET', LB.map((lb) => `/1.0/loadbalancer/${lb}/haproxy`)),
    withBody('PUT /1.0/listeners/:amp/:l/udp_listener', 'PUT', fc.tuple(AMP, L).map(([a, l]) => `/1.0/listeners/${a}/${l}/udp_listener`),
      textBody([s.lvsDisabled, s.lvsDisabled, s.lvsWithVirtualServer]), 'lvs'),
    g('GET /1.0/listeners/:l/udp_listener', 'GET', L.map((l) => `/1.0/listeners/${l}/udp_listener`)),
    g('GET /1.0/listeners', 'GET', fc.constant('/1.0/listeners')),
    g('PUT /1.0/loadbalancer/:obj/:action', 'PUT', fc.tuple(fc.oneof(L, LB), action).map(([o, a]) => `/1.0/loadbalancer/${o}/${a}`)),
    g('DELETE /1.0/listeners/:obj', 'DELETE', fc.oneof(L, LB).map((o) => `/1.0/listeners/${o}`)),
    withBody('POST /1.0/plug/vip/:vip', 'POST', ip.map((a) => `/1.0/plug/vip/${encodeURIComponent(a)}`), fc.oneof(plugBody, junk)),
    withBody('POST /1.0/plug/network', 'POST', fc.constant('/1.0/plug/network'), fc.oneof(plugBody, junk)),
    withBody('PUT /1.0/vrrp/upload', 'PUT', fc.constant('/1.0/vrrp/upload'), textBody([s.vrrp]), 'vrrp'),
    g('PUT /1.0/vrrp/:action', 'PUT', action.map((a) => `/1.0/vrrp/${a}`)),
    // unknown routes and methods: the reference's 404/405
    g('unknown', 'GET', fc.constantFrom('/1.0', '/3.0/listeners', '/1.0/listeners/x/y/z/w', '/%2e%2e/%2e%2e/etc/passwd', '/1.0/config')),
    g('unknown method', 'PATCH', fc.constantFrom('/1.0/config', '/1.0/listeners', '/2.0/listeners/x')),
  ).map(readable);
}

/**
 * PUT /1.0/config and PUT /1.0/certificate: valid (the current file again, a newly issued
 * certificate), near-valid mutations (options the contract says must be refused: a CA or
 * certificate that is no such thing, a port in use or 0, a bind_host not on this host) and junk.
 * `currentConfig` is the agent's own file; options that would move it on purpose (bind_port to
 * another free port) are not generated, since the client would then have to follow it.
 */
export function configRequests(currentConfig: string, certPems: readonly string[], usedPort: number): fc.Arbitrary<FuzzRequest> {
  const bad = fc.constantFrom(
    ['agent_server_ca', '/etc/hostname'], ['agent_server_cert', '/etc/hostname'], ['agent_server_ca', '/nonexistent'],
    ['bind_port', '0'], ['bind_port', String(usedPort)], ['bind_host', '192.0.2.254'], ['bind_host', 'not-a-host'],
    ['bind_port', '70000'], ['agent_tls_protocol', 'SSLv2'], ['heartbeat_interval', '-1'], ['debug', `True${INJECTIONS[0]}`],
    ['base_path', '/'], ['agent_server_network_dir', '../../etc'],
  );
  const setOption = fc.tuple(bad).map(([[k, v]]) => currentConfig.replace(new RegExp(`^${k} = .*$`, 'm'), `${k} = ${v}`) + (new RegExp(`^${k} = `, 'm').test(currentConfig) ? '' : `\n[amphora_agent]\n${k} = ${v}\n`));
  // the mutations keep the agent's address: a config that moves it elsewhere on purpose is valid,
  // and the client would have to follow it (the bad addresses are in `bad`, and must be refused)
  const bindLines = currentConfig.split('\n').filter((l) => /^bind_(host|port) = /.test(l));
  const rest = currentConfig.split('\n').filter((l) => !/^bind_(host|port) = /.test(l)).join('\n');
  const keepAddress = (text: string) => `${text}\n\n[haproxy_amphora]\n${bindLines.join('\n')}\n`;
  const configBody = fc.oneof(
    { weight: 1, arbitrary: fc.constant(currentConfig) },
    { weight: 4, arbitrary: setOption },
    { weight: 3, arbitrary: mutatedText(rest).map(keepAddress) },
    { weight: 2, arbitrary: junk },
  );
  const certBody = fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...certPems) }, { weight: 5, arbitrary: fc.constantFrom(...certPems).chain(mutatedText) }, { weight: 2, arbitrary: junk });
  return fc.oneof(
    withContentType(configBody.map((b) => ({ route: 'PUT /1.0/config', method: 'PUT', path: '/1.0/config', body: buf(b) }))),
    withContentType(certBody.map((b) => ({ route: 'PUT /1.0/certificate', method: 'PUT', path: '/1.0/certificate', body: buf(b) }))),
  ).map(readable);
}
