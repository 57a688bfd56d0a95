/**
 * @module system/netns-exec
 * The one `ip netns exec <namespace>` prefix: commands the agent runs in the amphora namespace
 * (ProcessRunner's `netns` option) and the daemons its units start both go through it, with
 * the configured `ip_cmd`. Pure.
 */
export function netnsExec(ipCmd: string, namespace: string, argv: readonly string[]): string[] {
  return [ipCmd, 'netns', 'exec', namespace, ...argv];
}
