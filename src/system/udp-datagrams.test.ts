import { describe, expect, it } from 'vitest';
import { HeartbeatReceiver } from '../../test/support/heartbeat-datagrams.js';
import { UdpDatagramSender } from './udp-datagrams.js';

describe('UdpDatagramSender (real sockets on loopback)', () => {
  it('resolves literal addresses and localhost to their family', async () => {
    const sender = new UdpDatagramSender();
    expect(await sender.resolve('127.0.0.1', 5555)).toEqual({ address: '127.0.0.1', family: 4, port: 5555 });
    expect(await sender.resolve('::1', 5556)).toEqual({ address: '::1', family: 6, port: 5556 });
    expect(['127.0.0.1', '::1']).toContain((await sender.resolve('localhost', 1)).address);
  });

  it('refuses a name that does not resolve', async () => {
    await expect(new UdpDatagramSender().resolve('no-such-controller.invalid', 5555)).rejects.toMatchObject({ code: expect.stringMatching(/ENOTFOUND|EAI_AGAIN/) });
  });

  it('sends datagrams over IPv4 and IPv6, one socket per family', async () => {
    const sender = new UdpDatagramSender();
    const v4 = await HeartbeatReceiver.bind('127.0.0.1');
    const v6 = await HeartbeatReceiver.bind('::1');
    try {
      await sender.send(await sender.resolve('127.0.0.1', v4.port), Buffer.from('four'));
      await sender.send(await sender.resolve('::1', v6.port), Buffer.from('six'));
      await sender.send(await sender.resolve('127.0.0.1', v4.port), Buffer.from('four again'));
      expect((await v4.next((r) => r.bytes.toString() === 'four again')).from).toBe('127.0.0.1');
      expect((await v6.next()).bytes.toString()).toBe('six');
      expect(v4.received.map((r) => r.bytes.toString())).toEqual(['four', 'four again']);
    } finally {
      await sender.close();
      await v4.close();
      await v6.close();
    }
  });

  it('reports a send the kernel refuses, and sends again afterwards', async () => {
    const sender = new UdpDatagramSender();
    try {
      // the limited broadcast address without SO_BROADCAST: the kernel refuses it (EACCES), nothing leaves
      await expect(sender.send({ address: '255.255.255.255', family: 4, port: 9 }, Buffer.from('x'))).rejects.toMatchObject({ code: 'EACCES' });
      const v4 = await HeartbeatReceiver.bind('127.0.0.1');
      await sender.send({ address: '127.0.0.1', family: 4, port: v4.port }, Buffer.from('after'));
      expect((await v4.next()).bytes.toString()).toBe('after');
      await v4.close();
    } finally {
      await sender.close();
    }
  });
});
