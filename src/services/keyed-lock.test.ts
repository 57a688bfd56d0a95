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

  it('lets work that holds a key take it again (re-entrant) while others wait for it', async () => {
    const lock = new KeyedLock();
    const order: string[] = [];
    const outer = lock.run('x', async () => {
      await sleep(20);
      // the nested call would wait for itself without re-entry
      const inner = await lock.run('x', async () => {
        order.push('inner');
        return 'inner done';
      });
      order.push('outer');
      return inner;
    });
    const other = lock.run('x', async () => void order.push('other'));
    expect(await outer).toBe('inner done');
    await other;
    expect(order).toEqual(['inner', 'outer', 'other']);
  });

  it('holds nothing for work outside the key: a later caller of the same key waits again', async () => {
    const lock = new KeyedLock();
    const order: string[] = [];
    await lock.run('x', async () => void order.push('first'));
    const slow = lock.run('x', async () => {
      await sleep(20);
      order.push('slow');
    });
    await lock.run('x', async () => void order.push('after'));
    await slow;
    expect(order).toEqual(['first', 'slow', 'after']);
  });

  it('a promise left running by work that has ended holds nothing: it waits like anyone else', async () => {
    const lock = new KeyedLock();
    const order: string[] = [];
    let leftover: Promise<void> = Promise.resolve();
    await lock.run('x', async () => {
      leftover = (async () => {
        await sleep(20);
        await lock.run('x', async () => void order.push('leftover'));
      })();
    });
    const holder = lock.run('x', async () => {
      await sleep(40);
      order.push('holder');
    });
    await Promise.all([leftover, holder]);
    expect(order).toEqual(['holder', 'leftover']);
  });
});
