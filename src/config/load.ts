/**
 * @module config/load
 * Turns one or more amphora-agent.conf texts into a validated `AgentConfig`, later files
 * overriding earlier ones as with oslo.config's repeated --config-file. Every problem becomes a
 * `ConfigError` whose message is one line naming the file, section, option and expected form.
 * Reading files is the caller's business (`readConfigFiles`); `parseConfig` itself is pure.
 */
import { readFile } from 'node:fs/promises';
import { IniParseError, parseOsloIni } from './oslo-ini.js';
import { SCHEMA, type AgentConfig } from './schema.js';
import { crossOptionProblem } from './cross-checks.js';
import type { OptionKind } from './option-types.js';
import { ConfigError } from '../model/errors.js';

export { ConfigError };

export interface ConfigSource {
  readonly path: string;
  readonly text: string;
}


export interface LoadedConfig {
  readonly config: AgentConfig;
  /** `[section] option` entries present in the files but unknown to this agent (logged at debug). */
  readonly unknown: readonly string[];
}

interface Located {
  readonly value: string;
  readonly path: string;
  readonly line: number;
}

function collect(sources: readonly ConfigSource[]): Map<string, Map<string, Located>> {
  const merged = new Map<string, Map<string, Located>>();
  for (const source of sources) {
    let doc;
    try {
      doc = parseOsloIni(source.text);
    } catch (err) {
      if (err instanceof IniParseError) throw new ConfigError(`${source.path}: cannot parse: ${err.message}`);
      throw err;
    }
    for (const [section, options] of doc) {
      const target = merged.get(section) ?? new Map<string, Located>();
      merged.set(section, target);
      for (const [option, { value, line }] of options) target.set(option, { value, path: source.path, line });
    }
  }
  return merged;
}

export function parseConfig(sources: readonly ConfigSource[]): LoadedConfig {
  const merged = collect(sources);
  const unknown: string[] = [];
  const config: Record<string, Record<string, unknown>> = {};

  for (const [section, options] of Object.entries(SCHEMA) as [string, Record<string, OptionKind<unknown>>][]) {
    const values: Record<string, unknown> = {};
    const given = merged.get(section);
    for (const [option, kind] of Object.entries(options)) {
      const raw = given?.get(option);
      if (raw === undefined) {
        values[option] = kind.default;
        continue;
      }
      const result = kind.schema.safeParse(raw.value);
      if (!result.success) {
        throw new ConfigError(
          `${raw.path}:${raw.line}: [${section}] ${option} = ${JSON.stringify(raw.value)} is invalid: expected ${kind.expected}`,
        );
      }
      values[option] = result.data;
    }
    config[section] = values;
  }

  for (const [section, options] of merged) {
    const known: Record<string, unknown> = (SCHEMA as Record<string, Record<string, unknown>>)[section] ?? {};
    for (const option of options.keys()) if (!(option in known)) unknown.push(`[${section}] ${option}`);
  }
  const cross = crossOptionProblem(config as AgentConfig);
  if (cross !== null) {
    const at = merged.get(cross.section)?.get(cross.option);
    throw new ConfigError(`${at === undefined ? '' : `${at.path}:${at.line}: `}[${cross.section}] ${cross.problem}`);
  }
  return { config: config as AgentConfig, unknown };
}

export async function readConfigFiles(paths: readonly string[]): Promise<ConfigSource[]> {
  return Promise.all(
    paths.map(async (path) => {
      try {
        return { path, text: await readFile(path, 'utf8') };
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? String(err);
        throw new ConfigError(`${path}: cannot read the configuration file (${code})`);
      }
    }),
  );
}

export async function loadConfig(paths: readonly string[]): Promise<LoadedConfig> {
  return parseConfig(await readConfigFiles(paths));
}
