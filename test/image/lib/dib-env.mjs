/**
 * @module test/image/lib/dib-env
 * What a diskimage-builder run on this machine needs besides the project's element, found or made
 * at run time: the installed DIB (its elements folder and version), the host's Debian mirrors
 * (read from its apt sources, so that no mirror's host name is written into the repository), the
 * apt sources the image gets, and the trixie override of DIB's `base` element. That override is
 * derived from the installed DIB every time, not kept in the repository: Debian 13 dropped
 * software-properties-common, which `base/pre-install.d/03-baseline-tools` of the DIB that
 * Debian ships (3.13 in bookworm, 3.37 in trixie) installs unconditionally.
 * Must not: run DIB (lib/build.mjs does) or touch anything outside the folder it is given.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// DIB's console script runs under the system Python; a python3 earlier on PATH (pyenv, a venv)
// may not have the module.
const SYSTEM_PYTHON = '/usr/bin/python3';

/** The installed diskimage-builder: its package folder, elements folder and version. */
export function installedDib() {
  const out = execFileSync(
    SYSTEM_PYTHON,
    ['-c', 'import os, diskimage_builder as d, diskimage_builder.version as v; print(os.path.dirname(d.__file__)); print(v.version_info.version_string())'],
    { encoding: 'utf8' },
  ).trim().split('\n');
  const [dir, version] = out;
  if (!dir || !version || !existsSync(join(dir, 'elements', 'base'))) throw new Error(`diskimage-builder not found by ${SYSTEM_PYTHON}: ${out.join(' ')}`);
  return { dir, elements: join(dir, 'elements'), version };
}

/** deb822 stanzas of a .sources file, as { key(lowercase): value } records. */
function deb822(text) {
  return text
    .split(/\n\s*\n/)
    .map((stanza) => {
      const rec = {};
      for (const line of stanza.split('\n')) {
        if (line.startsWith('#')) continue;
        const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
        if (m) rec[m[1].toLowerCase()] = m[2].trim();
      }
      return rec;
    })
    .filter((r) => r.uris && r.suites && (r.types ?? 'deb').split(/\s+/).includes('deb'));
}

/** One-line `deb [opts] URI SUITE COMPONENTS...` entries of a sources.list, as the same records. */
function oneLine(text) {
  const recs = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)(.*)$/.exec(line);
    if (m) recs.push({ uris: m[1], suites: m[2], components: m[3].trim() });
  }
  return recs;
}

/**
 * The host's Debian archive and security mirrors, from /etc/apt/sources.list.d/*.sources and
 * *.list, then /etc/apt/sources.list: the archive is the URI serving the host's release (e.g.
 * `bookworm`), the security mirror the one serving `<release>-security`. The same mirrors serve
 * the other Debian releases under the same paths.
 */
export function hostMirrors(aptDir = '/etc/apt') {
  const recs = [];
  const dir = join(aptDir, 'sources.list.d');
  for (const f of existsSync(dir) ? readdirSync(dir).sort() : []) {
    if (f.endsWith('.sources')) recs.push(...deb822(readFileSync(join(dir, f), 'utf8')));
    else if (f.endsWith('.list')) recs.push(...oneLine(readFileSync(join(dir, f), 'utf8')));
  }
  const list = join(aptDir, 'sources.list');
  if (existsSync(list)) recs.push(...oneLine(readFileSync(list, 'utf8')));
  // The entries serving this host's own release (VERSION_CODENAME), so that other repositories
  // listed beside Debian's (vendor tools, backports) are not taken for the archive.
  const codename = hostCodename(aptDir);
  const suites = (r) => r.suites.split(/\s+/);
  const archive = recs.find((r) => suites(r).includes(codename));
  const security = recs.find((r) => suites(r).includes(`${codename}-security`));
  if (!archive) throw new Error(`no apt source for this host's release (${codename}) in ${aptDir}: cannot tell DIB which Debian mirror to use`);
  const first = (uris) => uris.split(/\s+/)[0].replace(/\/+$/, '');
  return { archive: first(archive.uris), security: security ? first(security.uris) : undefined };
}

/** VERSION_CODENAME of the host's /etc/os-release (beside /etc/apt). */
function hostCodename(aptDir) {
  const osRelease = readFileSync(join(aptDir, '..', 'os-release'), 'utf8');
  const m = /^VERSION_CODENAME=("?)([a-z]+)\1$/m.exec(osRelease);
  if (!m) throw new Error('no VERSION_CODENAME in /etc/os-release: cannot find the host\'s Debian mirror');
  return m[2];
}

/** DIB_APT_SOURCES_CONF for `release`: the release, its -updates and -security suites (main only). */
export function aptSourcesConf(release, mirrors) {
  const lines = [`default:deb ${mirrors.archive} ${release} main`, `updates:deb ${mirrors.archive} ${release}-updates main`];
  if (mirrors.security) lines.push(`security:deb ${mirrors.security} ${release}-security main`);
  return lines.join('\n');
}

// The line of base/pre-install.d/03-baseline-tools that fails on Debian 13, and what replaces it.
const BASELINE_HOOK = join('pre-install.d', '03-baseline-tools');
const BASELINE_LINE = /^(\s*)install-packages software-properties-common apt-transport-https\s*$/m;

/** Releases whose debian-minimal build needs the derived `base` element. */
export const NEEDS_BASE_OVERRIDE = new Set(['trixie']);

/**
 * Copies the installed DIB's `base` element into `elementsDir/base` with its one failing install
 * made conditional: on trixie neither package exists (apt speaks https itself since 1.5, and
 * add-apt-repository is not used by any element here). DIB, finding `base` first on
 * ELEMENTS_PATH, uses this copy ("overrides" in its log). Throws when the expected line is not
 * there, so that a DIB that changed the hook is noticed rather than silently overridden.
 */
export function deriveBaseElement(dib, elementsDir) {
  const target = join(elementsDir, 'base');
  cpSync(join(dib.elements, 'base'), target, { recursive: true });
  const hook = join(target, BASELINE_HOOK);
  const text = readFileSync(hook, 'utf8');
  if (!BASELINE_LINE.test(text)) {
    throw new Error(`diskimage-builder ${dib.version}: ${join(dib.elements, 'base', BASELINE_HOOK)} no longer has the line this build changes (install-packages software-properties-common apt-transport-https); check whether the trixie override is still needed`);
  }
  const changed = text.replace(
    BASELINE_LINE,
    (_, indent) =>
      `${indent}# amphora-agent's image build: Debian 13 has neither package.\n` +
      `${indent}if [ "\${DIB_RELEASE:-}" != trixie ]; then\n` +
      `${indent}    install-packages software-properties-common apt-transport-https\n` +
      `${indent}fi`,
  );
  writeFileSync(hook, changed, { mode: 0o755 });
  return target;
}
