/**
 * @module config/oslo-ini
 * Parses INI text the way oslo.config reads amphora-agent.conf: `key = value` or `key: value`,
 * whole-line `#`/`;` comments only (a `#` inside a value is part of it, e.g. a heartbeat_key),
 * indented continuation lines, one pair of matching quotes stripped, last assignment wins.
 * The npm `ini` package was tried and rejected: it cuts values at `#`/`;`, nests dotted
 * section names and has no continuation lines (see docs/design/0001-config-parser.md).
 * Pure: text in, data out.
 */

/** Where a value came from, so that an invalid one can be reported precisely. */
export interface IniValue {
  readonly value: string;
  readonly line: number;
}

export type IniDocument = Map<string, Map<string, IniValue>>;

export class IniParseError extends Error {
  constructor(
    readonly reason: string,
    readonly line: number,
    readonly text: string,
  ) {
    super(`at line ${line}, ${reason}: ${JSON.stringify(text)}`);
    this.name = 'IniParseError';
  }
}

function unquote(value: string): string {
  const v = value.trim();
  if (v.length >= 2 && v[0] === v[v.length - 1] && (v[0] === '"' || v[0] === "'")) return v.slice(1, -1);
  return v;
}

function splitAssignment(line: string, lineNo: number): [string, string] {
  const colon = line.indexOf(':');
  const equal = line.indexOf('=');
  if (colon < 0 && equal < 0) throw new IniParseError("no ':' or '=' found in assignment", lineNo, line);
  const at = colon < 0 || (equal >= 0 && equal < colon) ? equal : colon;
  const key = line.slice(0, at).trim();
  if (!key) throw new IniParseError('key cannot be empty', lineNo, line);
  return [key, unquote(line.slice(at + 1))];
}

export function parseOsloIni(text: string): IniDocument {
  const doc: IniDocument = new Map();
  let section: Map<string, IniValue> | undefined;
  let pending: { key: string; parts: string[]; line: number } | undefined;

  const flush = (): void => {
    if (!pending) return;
    if (!section) throw new IniParseError('assignment outside of any section', pending.line, pending.key);
    section.set(pending.key, { value: pending.parts.join('\n'), line: pending.line });
    pending = undefined;
  };

  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const line = raw.trimEnd();
    if (!line) {
      flush();
      return;
    }
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (!pending) throw new IniParseError('unexpected continuation line', lineNo, line);
      pending.parts.push(line.trimStart());
      return;
    }
    flush();
    if (line.startsWith('[')) {
      if (!line.endsWith(']')) throw new IniParseError('invalid section (must end with ])', lineNo, line);
      const name = line.slice(1, -1).trim();
      if (!name) throw new IniParseError('empty section name', lineNo, line);
      section = doc.get(name) ?? new Map();
      doc.set(name, section);
    } else if (!line.startsWith('#') && !line.startsWith(';')) {
      const [key, value] = splitAssignment(line, lineNo);
      pending = { key, parts: [value], line: lineNo };
    }
  });
  flush();
  return doc;
}
