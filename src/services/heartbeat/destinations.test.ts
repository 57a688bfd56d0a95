import { describe, expect, it } from 'vitest';
import { FakeDatagrams } from '../../../test/fakes/fake-datagrams.js';
import { captureLogger } from '../../../test/support/agent-process.js';
import { HeartbeatDestinations, parseControllerEntry } from './destinations.js';

describe('parseControllerEntry', () => {
  it.each([
    ['192.0.2.10:5555', { host: '192.0.2.10', port: 5555 }],
    // Octavia writes IPv6 addresses bare: the port is after the last colon
    ['2001:db8::10:5555', { host: '2001:db8::10', port: 5555 }],
    // Octavia master strips brackets (Octavia 11 would fail to resolve "[2001:db8::10]")
    ['[2001:db8::10]:5555', { host: '2001:db8::10', port: 5555 }],
    ['controller.example:5555', { host: 'controller.example', port: 5555 }],
  ])('%s', (entry, expected) => expect(parseControllerEntry(entry)).toEqual(expected));

  it.each(['5555', ':5555', 'host:', 'host:port', 'host:65536', '[]:5555'])('refuses %s', (entry) => expect(parseControllerEntry(entry)).toBeUndefined());
});

describe('HeartbeatDestinations', () => {
  it('takes the entries in turn, one per heartbeat', async () => {
    const d = new HeartbeatDestinations(new FakeDatagrams(), captureLogger().log);
    const list = ['192.0.2.1:5555', '2001:db8::2:5556', '[2001:db8::3]:5557'];
    const order = [];
    for (let i = 0; i < 7; i++) order.push(await d.next(list));
    expect(order.map((x) => `${x?.family} ${x?.address} ${x?.port}`)).toEqual([
      '4 192.0.2.1 5555',
      '6 2001:db8::2 5556',
      '6 2001:db8::3 5557',
      '4 192.0.2.1 5555',
      '6 2001:db8::2 5556',
      '6 2001:db8::3 5557',
      '4 192.0.2.1 5555',
    ]);
  });

  it('resolves a list once, a new list at once (from its first entry), and logs the new destinations at info', async () => {
    const datagrams = new FakeDatagrams();
    const { log, lines } = captureLogger();
    const d = new HeartbeatDestinations(datagrams, log);
    await d.next(['192.0.2.1:5555', '192.0.2.2:5555']);
    await d.next(['192.0.2.1:5555', '192.0.2.2:5555']);
    expect(datagrams.resolved).toEqual(['192.0.2.1', '192.0.2.2']);
    expect((await d.next(['198.51.100.7:6000', '192.0.2.2:5555']))?.address).toBe('198.51.100.7');
    const infos = lines.filter((l) => l['level'] === 30).map((l) => l['destinations']);
    expect(infos).toEqual([
      ['192.0.2.1:5555', '192.0.2.2:5555'],
      ['198.51.100.7:6000', '192.0.2.2:5555'],
    ]);
  });

  it('leaves out an entry that does not resolve (logged once as an error) and tries it again at the next heartbeat', async () => {
    const datagrams = new FakeDatagrams();
    const { log, lines } = captureLogger();
    const d = new HeartbeatDestinations(datagrams, log);
    const list = ['no-such-controller.invalid:5555', '192.0.2.1:5555'];
    expect((await d.next(list))?.address).toBe('192.0.2.1');
    expect((await d.next(list))?.address).toBe('192.0.2.1');
    expect(datagrams.resolved.filter((h) => h === 'no-such-controller.invalid')).toHaveLength(2);
    expect(lines.filter((l) => l['level'] === 50)).toHaveLength(1);
  });

  it('has no destination when nothing resolves', async () => {
    const d = new HeartbeatDestinations(new FakeDatagrams(), captureLogger().log);
    expect(await d.next(['nowhere.invalid:5555'])).toBeUndefined();
  });
});
