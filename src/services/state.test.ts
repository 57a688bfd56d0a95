import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StateStore } from './state.js';

describe('StateStore', () => {
  it('starts empty, persists updates and reads them back', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'state-')), 'state.json');
    const store = new StateStore(file);
    expect(await store.load()).toEqual({ version: 1, lvsListeners: {}, loadBalancers: {}, vrrp: null, listenerModels: {} });
    await store.update((s) => {
      s.lvsListeners["b"] = { id: "b", wantRunning: true, appliedHash: null, protocol: "UDP", hasVirtualServer: true };
      s.loadBalancers['lb'] = { id: 'lb', wantRunning: true, listeners: ['c', 'a'] };
    });
    const again = new StateStore(file);
    await again.load();
    expect(again.listenerIds()).toEqual(['a', 'b', 'c']);
  });

  it('refuses a corrupt registry instead of silently forgetting listeners', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'state-')), 'state.json');
    await writeFile(file, '{"version":1,"lvsListeners":[]}');
    await expect(new StateStore(file).load()).rejects.toThrow();
  });
});
