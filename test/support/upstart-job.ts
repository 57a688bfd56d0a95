/**
 * @module test/support/upstart-job
 * A structural reader for upstart job files (init(5) of upstart 1.x), standing in for
 * `init-checkconf`, which Debian does not ship. It knows every stanza, pairs `script` with
 * `end script`, checks the values of the stanzas whose syntax is fixed, and hands back the shell
 * bodies so that a test can run `sh -n` and shellcheck on them. Pure: no fs, no processes.
 */

/** Stanzas, longest first so that "respawn limit" wins over "respawn". */
const STANZAS = [
  'apparmor switch', 'apparmor load', 'respawn limit', 'reload signal', 'kill timeout', 'kill signal',
  'normal exit', 'oom score', 'start on', 'stop on',
  'description', 'author', 'version', 'usage', 'emits', 'manual', 'env', 'export', 'respawn', 'task',
  'instance', 'console', 'nice', 'limit', 'chroot', 'chdir', 'setgid', 'setuid', 'umask', 'cgroup', 'expect',
  'exec', 'pre-start', 'post-start', 'pre-stop', 'post-stop',
] as const;

const PROCESSES = ['pre-start', 'post-start', 'pre-stop', 'post-stop'] as const;

export interface UpstartScript {
  /** 'main' for the job's own `script … end script`, else 'pre-start' and so on. */
  readonly process: string;
  readonly body: string;
  readonly line: number;
}

export interface UpstartJob {
  /** Stanza name → the rest of each line that used it. */
  readonly stanzas: ReadonlyMap<string, readonly string[]>;
  readonly scripts: readonly UpstartScript[];
  readonly errors: readonly string[];
}

function balanced(expr: string): boolean {
  let depth = 0;
  for (const ch of expr) {
    if (ch === '(') depth++;
    if (ch === ')' && --depth < 0) return false;
  }
  return depth === 0;
}

function checkValue(stanza: string, value: string, at: string, errors: string[]): void {
  const fail = (why: string): void => void errors.push(`${at}: ${stanza} ${why}`);
  switch (stanza) {
    case 'start on':
    case 'stop on':
      if (value === '' || !balanced(value)) fail('needs a balanced event expression');
      break;
    case 'console':
      if (!['log', 'output', 'owner', 'none'].includes(value)) fail(`"${value}": expected log, output, owner or none`);
      break;
    case 'kill timeout':
      if (!/^\d+$/.test(value)) fail(`"${value}": expected seconds`);
      break;
    case 'kill signal':
    case 'reload signal':
      if (!/^(SIG[A-Z0-9]+|[A-Z][A-Z0-9]*|\d+)$/.test(value)) fail(`"${value}": expected a signal`);
      break;
    case 'respawn limit':
      if (!/^(unlimited|\d+\s+\d+)$/.test(value)) fail(`"${value}": expected COUNT INTERVAL or unlimited`);
      break;
    case 'normal exit':
      if (!/^((\d+|SIG[A-Z0-9]+|[A-Z][A-Z0-9]*)\s*)+$/.test(value)) fail(`"${value}": expected exit codes or signals`);
      break;
    case 'expect':
      if (!['fork', 'daemon', 'stop'].includes(value)) fail(`"${value}": expected fork, daemon or stop`);
      break;
    case 'respawn':
    case 'task':
    case 'manual':
      if (value !== '') fail('takes no value');
      break;
    case 'exec':
    case 'description':
      if (value === '') fail('needs a value');
      break;
  }
}

export function parseUpstartJob(text: string): UpstartJob {
  const stanzas = new Map<string, string[]>();
  const scripts: UpstartScript[] = [];
  const errors: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (line === '' || line.startsWith('#')) continue;
    const at = `line ${i + 1}`;
    const block = /^(?:(pre-start|post-start|pre-stop|post-stop)\s+)?script$/.exec(line);
    if (block) {
      const process = block[1] ?? 'main';
      const start = i;
      const body: string[] = [];
      for (i++; i < lines.length && (lines[i] ?? '').trim() !== 'end script'; i++) body.push(lines[i] ?? '');
      if (i >= lines.length) errors.push(`line ${start + 1}: "${line}" has no "end script"`);
      scripts.push({ process, body: `${body.join('\n')}\n`, line: start + 1 });
      const key = process === 'main' ? 'script' : `${process} script`;
      stanzas.set(key, [...(stanzas.get(key) ?? []), '']);
      continue;
    }
    if (line === 'end script') {
      errors.push(`${at}: "end script" without "script"`);
      continue;
    }
    const stanza = STANZAS.find((s) => line === s || line.startsWith(`${s} `) || line.startsWith(`${s}\t`));
    if (!stanza) {
      errors.push(`${at}: unknown stanza "${line.split(/\s+/)[0]}"`);
      continue;
    }
    const value = line.slice(stanza.length).trim();
    if ((PROCESSES as readonly string[]).includes(stanza) && !value.startsWith('exec ')) {
      errors.push(`${at}: ${stanza} needs "exec COMMAND" or a "script" block`);
    }
    checkValue(stanza, value, at, errors);
    stanzas.set(stanza, [...(stanzas.get(stanza) ?? []), value]);
  }
  const mains = (stanzas.get('exec')?.length ?? 0) + (stanzas.get('script')?.length ?? 0);
  if (mains !== 1) errors.push(`the job needs exactly one main process ("exec" or "script"), found ${mains}`);
  for (const once of ['start on', 'stop on', 'description', 'console', 'kill timeout', 'kill signal', 'respawn limit']) {
    if ((stanzas.get(once)?.length ?? 0) > 1) errors.push(`"${once}" appears more than once`);
  }
  return { stanzas, scripts, errors };
}
