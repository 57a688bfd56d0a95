/**
 * Goldens of the namespace setup script (render/scripts.ts): without the agent's command (an
 * embedded agent: it only creates the namespace) and with it (the bring-up after the namespace
 * was created, skipped under --namespace-only); a word the script could not carry is refused.
 */
import { describe, expect, it } from 'vitest';
import { renderNetnsSetup } from './scripts.js';

const BOOT = ['/usr/bin/node', '/usr/local/bin/amphora-agent', '--config-file', '/etc/octavia/amphora-agent.conf', '--config-file', '/etc/octavia/local.conf'];

describe('renderNetnsSetup', () => {
  it('creates the namespace only, without the agent command', async () => {
    await expect(renderNetnsSetup({ namespace: 'amphora-haproxy', lockFile: '/var/lib/octavia/amphora-netns.lock', ipCmd: '/sbin/ip', loadModules: true })).toMatchFileSnapshot('__golden__/netns-setup.sh');
  });

  it('runs `interfaces up` when it created the namespace, with the agent command', async () => {
    const text = renderNetnsSetup({ namespace: 'amphora-haproxy', lockFile: '/var/lib/octavia/amphora-netns.lock', ipCmd: '/sbin/ip', loadModules: false, bootCommand: BOOT });
    await expect(text).toMatchFileSnapshot('__golden__/netns-setup-boot.sh');
    expect(text).toContain(`${BOOT.join(' ')} interfaces up 9>&-`);
  });

  it.each([['a path with a space', '/opt/my agent/cli.mjs'], ['a command substitution', '$(reboot)'], ['a second command', 'x;reboot'], ['a newline', 'x\nreboot']])(
    'refuses %s in the agent command',
    (_what, word) => {
      expect(() => renderNetnsSetup({ namespace: 'amphora-haproxy', lockFile: '/var/lib/octavia/amphora-netns.lock', ipCmd: '/sbin/ip', loadModules: true, bootCommand: ['/usr/bin/node', word] })).toThrow(/agent command argv\[1\] is not a safe configuration word/);
    },
  );
});
