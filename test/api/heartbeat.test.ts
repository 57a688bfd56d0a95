/**
 * The heartbeat over real UDP sockets on loopback: the agent's services (the production wiring,
 * fakes for commands and daemons) send to receivers bound on 127.0.0.1 and ::1, and
 * PUT /1.0/config moves the heartbeats to another controller and another key at once, without a
 * restart and without naming those options as pending one.
 */
import { readFileSync } from 'node:fs';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { UdpDatagramSender } from '../../src/system/udp-datagrams.js';
import { HeartbeatReceiver, octaviaUnwrap, openDatagram, signedWith } from '../support/heartbeat-datagrams.js';
import { missing } from '../support/requirements.js';
import { apiApp } from '../support/api-app.js';

const AMP = '11111111-2222-3333-4444-555555555555';

function healthManager(list: string, key: string, interval: number): string {
  return `[health_manager]\ncontroller_ip_port_list = ${list}\nheartbeat_key = ${key}\nheartbeat_interval = ${interval}\n`;
}

describe('heartbeats and PUT /1.0/config', { timeout: 120_000 }, () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  async function receiver(address: string): Promise<HeartbeatReceiver> {
    const r = await HeartbeatReceiver.bind(address);
    cleanup.push(() => r.close());
    return r;
  }

  it('sends signed v3 heartbeats, and a new controller list, key and interval apply at once', async () => {
    const first = await receiver('127.0.0.1');
    const second = await receiver('127.0.0.1');
    const v6 = await receiver('::1');
    const datagrams = new UdpDatagramSender();
    const { app, configFile, heartbeat } = await apiApp(`amphora_id = ${AMP}\n${healthManager(first.entry, 'key-one', 1)}`, { datagrams });
    cleanup.push(() => datagrams.close());
    cleanup.push(() => heartbeat.stop());
    heartbeat.start();

    const one = await first.next();
    expect(one.from).toBe('127.0.0.1');
    expect(openDatagram(one.bytes, 'key-one')).toEqual({ id: AMP, seq: 0, listeners: {}, pools: {}, ver: 3 });

    const original = readFileSync(configFile, 'utf8');
    const res = await request(app).put('/1.0/config').send(original.replace(healthManager(first.entry, 'key-one', 1), healthManager(second.entry, 'key-two', 2))).expect(202);
    // live options: nothing waits for a restart
    expect(res.body).toEqual({ message: 'OK' });
    const two = await second.next();
    expect(signedWith(two.bytes, 'key-two')).toBe(true);
    expect(signedWith(two.bytes, 'key-one')).toBe(false);
    expect(openDatagram(two.bytes, 'key-two')).toMatchObject({ id: AMP, ver: 3 });
    // and as the health manager opens it (python3-octavia, where installed: the unit tier requires it)
    if (missing({ python: 'octavia' }).length === 0) expect(await octaviaUnwrap(two.bytes, 'key-two')).toEqual({ message: openDatagram(two.bytes, 'key-two') });

    // a bracketed IPv6 entry (Octavia master's form) and the round-robin over two controllers
    await request(app).put('/1.0/config').send(original.replace(healthManager(first.entry, 'key-one', 1), healthManager(`[::1]:${v6.port}, ${second.entry}`, 'key-three', 1))).expect(202);
    const six = await v6.next();
    expect(six.from).toBe('::1');
    expect(signedWith(six.bytes, 'key-three')).toBe(true);
    const fromSecond = second.received.length;
    await second.next((r) => signedWith(r.bytes, 'key-three'), fromSecond);
    const seqs = [...v6.received, ...second.received].filter((r) => signedWith(r.bytes, 'key-three')).map((r) => openDatagram(r.bytes, 'key-three')['seq']);
    // one destination per heartbeat: no sequence number reached both
    expect(new Set(seqs).size).toBe(seqs.length);
  });
});
