#!/usr/bin/env node
/**
 * @module cli
 * `amphora-agent --config-file PATH [--config-file PATH ...]`, as Octavia's agent is started,
 * plus --version and --help. With no --config-file it runs the embedded development default.
 * A configuration error ends the process with one line on stderr and exit code 2.
 * `… interfaces up` is the boot bring-up the netns setup script runs (main.ts interfacesUp):
 * one summary line on stdout, or one line on stderr and exit code 1 when something failed.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from './config/load.js';
import { curlCommand, prepareDevMode } from './dev/dev-mode.js';
import { createLogger, silentLogger } from './log.js';
import { interfacesUp, startAgent } from './main.js';
import { packageRoot } from './package-root.js';
import { ExecaRunner } from './system/exec.js';

const USAGE = `Usage: amphora-agent --config-file PATH [--config-file PATH ...]
       amphora-agent --config-file PATH [...] interfaces up
       amphora-agent            (no --config-file: development mode in ./.amphora-dev, 127.0.0.1:9443)

OpenStack Octavia amphora agent (API 1.0) over mutual TLS.

Options:
  --config-file PATH   amphora-agent.conf (oslo INI); repeat to layer files, later ones win
  --version            print the version and exit
  -h, --help           print this help and exit

interfaces up: move the NICs listed in plugged_interfaces into the amphora namespace under
their recorded names and bring every interface up from its file (what the netns unit runs at
boot; the namespace must exist).

The configuration reference is in README.md.`;

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/** This agent as a netns unit must run it: absolute paths, since units run from `/`. */
function bootCommand(files: readonly string[]): string[] {
  const cli = process.argv[1];
  if (cli === undefined) return [];
  return [process.execPath, resolve(cli), ...files.flatMap((f) => ['--config-file', resolve(f)])];
}

async function runInterfacesUp(files: readonly string[]): Promise<number> {
  try {
    const done = await interfacesUp({ configFiles: files });
    const moved = done.moved.length > 0 ? `moved ${done.moved.join(', ')}; ` : '';
    process.stdout.write(`amphora-agent: interfaces up: ${moved}up: ${done.up.join(', ')}\n`);
    return 0;
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    process.stderr.write(`amphora-agent: interfaces up: ${(err as Error).message.replace(/\s*\n\s*/g, ' ')}\n`);
    return 1;
  }
}

async function run(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: { 'config-file': { type: 'string', multiple: true }, version: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: true,
    });
    const command = args.positionals.join(' ');
    if (command !== '' && command !== 'interfaces up') throw new Error(`unknown command: ${command}`);
    if (command !== '' && !args.values['config-file']?.length) throw new Error(`${command} needs --config-file`);
  } catch (err) {
    process.stderr.write(`amphora-agent: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (args.values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (args.values.version) {
    process.stdout.write(`amphora-agent ${packageVersion()}\n`);
    return 0;
  }

  let files = args.values['config-file'] ?? [];
  if (args.positionals.length > 0) return runInterfacesUp(files);
  let dev;
  if (files.length === 0) {
    dev = await prepareDevMode(new ExecaRunner(silentLogger(), 60_000), process.cwd());
    files = [dev.configFile];
  }
  const agent = await startAgent({ configFiles: files, bootCommand: bootCommand(files) });
  if (dev) {
    process.stdout.write(
      `\namphora-agent (development mode) on https://127.0.0.1:${agent.port}, amphora id ${dev.pki.amphoraId}\n` +
        `config: ${dev.configFile}\ntry:\n  ${curlCommand(dev.pki, agent.port)}\n\n`,
    );
  }
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      agent.log.info({ signal }, 'stopping');
      void agent.close().then(resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return 0;
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`amphora-agent: invalid configuration: ${err.message}\n`);
      process.exit(2);
    }
    createLogger({ debug: false }).fatal({ err }, 'amphora-agent failed to start');
    process.stderr.write(`amphora-agent: ${(err as Error).message ?? String(err)}\n`);
    process.exit(1);
  },
);
