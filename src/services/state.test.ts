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
      s.lvsListeners['b'] = { id: 'b', wantRunning: true, protocol: 'UDP', installed: { hash: 'h', virtualServers: true }, applied: null };
      s.loadBalancers['lb'] = { id: 'lb', wantRunning: true, listeners: ['c', 'a'], installedHash: 'h', appliedHash: 'h', upload: null };
    });
    const again = new StateStore(file);
    await again.load();
    expect(again.listenerIds()).toEqual(['a', 'b', 'c']);
  });

  it('reads the registry of an older agent: the applied hash and virtual servers become the applied facts', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'state-')), 'state.json');
    const old = { id: 'l', wantRunning: true, appliedHash: 'abc', protocol: 'SCTP', hasVirtualServer: true };
    await writeFile(file, JSON.stringify({ version: 1, lvsListeners: { l: old }, loadBalancers: { lb: { id: 'lb', wantRunning: true, listeners: [] } }, vrrp: { wantRunning: true, appliedHash: 'v' } }));
    const state = await new StateStore(file).load();
    expect(state.lvsListeners['l']).toEqual({ id: 'l', wantRunning: true, protocol: 'SCTP', installed: null, applied: { hash: 'abc', virtualServers: true } });
    expect(state.loadBalancers['lb']).toMatchObject({ installedHash: null, appliedHash: null });
    expect(state.vrrp).toEqual({ wantRunning: true, installedHash: null, appliedHash: 'v' });
  });

  it('refuses a corrupt registry instead of silently forgetting listeners', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'state-')), 'state.json');
    await writeFile(file, '{"version":1,"lvsListeners":[]}');
    await expect(new StateStore(file).load()).rejects.toThrow();
  });
});
