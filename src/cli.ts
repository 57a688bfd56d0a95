#!/usr/bin/env node
/**
 * @module cli
 * `amphora-agent --config-file PATH [--config-file PATH ...]`, as Octavia's agent is started,
 * plus --version and --help. With no --config-file it runs the embedded development default.
 * A configuration error ends the process with one line on stderr and exit code 2.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from './config/load.js';
import { curlCommand, prepareDevMode } from './dev/dev-mode.js';
import { createLogger, silentLogger } from './log.js';
import { startAgent } from './main.js';
import { packageRoot } from './package-root.js';
import { ExecaRunner } from './system/exec.js';

const USAGE = `Usage: amphora-agent --config-file PATH [--config-file PATH ...]
       amphora-agent            (no --config-file: development mode in ./.amphora-dev, 127.0.0.1:9443)

OpenStack Octavia amphora agent (API 1.0) over mutual TLS.

Options:
  --config-file PATH   amphora-agent.conf (oslo INI); repeat to layer files, later ones win
  --version            print the version and exit
  -h, --help           print this help and exit

The configuration reference is in README.md.`;

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

async function run(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: { 'config-file': { type: 'string', multiple: true }, version: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    });
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
  let dev;
  if (files.length === 0) {
    dev = await prepareDevMode(new ExecaRunner(silentLogger(), 60_000), process.cwd());
    files = [dev.configFile];
  }
  const agent = await startAgent({ configFiles: files });
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
