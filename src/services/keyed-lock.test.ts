import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { KeyedLock } from './keyed-lock.js';

describe('KeyedLock', () => {
  it('runs work for one key in order, even when earlier work fails', async () => {
    const lock = new KeyedLock();
    const order: string[] = [];
    const a = lock.run('x', async () => {
      await sleep(30);
      order.push('a');
      throw new Error('a failed');
    });
    const b = lock.run('x', async () => {
      order.push('b');
      return 'b';
    });
    await expect(a).rejects.toThrow('a failed');
    expect(await b).toBe('b');
    expect(order).toEqual(['a', 'b']);
  });

  it('runs different keys concurrently', async () => {
    const lock = new KeyedLock();
    const order: string[] = [];
    await Promise.all([
      lock.run('x', async () => {
        await sleep(40);
        order.push('slow x');
      }),
      lock.run('y', async () => {
        order.push('fast y');
      }),
    ]);
    expect(order).toEqual(['fast y', 'slow x']);
  });
});
