/**
 * @module services/package-versions
 * Versions of haproxy, keepalived and ipvsadm as the controller expects them: the distro
 * package version (dpkg-query, else rpm), asked once and cached. A package that is not installed
 * falls back to the binary's own version output; when neither answers, the version is `null`
 * and `unavailable` says why, instead of the reference's 500.
 */
import type { ProcessRunner } from '../system/exec.js';

export type Component = 'haproxy' | 'keepalived' | 'ipvsadm';
export const COMPONENTS: readonly Component[] = ['haproxy', 'keepalived', 'ipvsadm'];

export interface ComponentVersions {
  readonly versions: Readonly<Record<Component, string | null>>;
  /** Why a version is null, per component; empty when all were found. */
  readonly unavailable: Readonly<Partial<Record<Component, string>>>;
}

interface BinaryProbe {
  readonly cmd: string;
  readonly args: readonly string[];
  readonly pattern: RegExp;
}

/** `haproxy -v` → "HAProxy version 2.6.12-1+deb12u4 …"; keepalived prints "Keepalived v2.2.7 …" (on stderr). */
function probes(haproxyCmd: string): Record<Component, BinaryProbe> {
  return {
    haproxy: { cmd: haproxyCmd, args: ['-v'], pattern: /HA-?Proxy version (\d+\.\d+\S*)/i },
    keepalived: { cmd: 'keepalived', args: ['--version'], pattern: /Keepalived v(\d+\.\d+\S*)/i },
    ipvsadm: { cmd: 'ipvsadm', args: ['--version'], pattern: /ipvsadm v(\d+\.\d+\S*)/i },
  };
}

/** The controller does `haproxy_version.split('.')[:2]`, so the string must start with MAJOR.MINOR. */
export function startsWithMajorMinor(version: string): boolean {
  return /^\d+\.\d+/.test(version);
}

export function stripEpoch(version: string): string {
  return version.replace(/^\d+:/, '');
}

export class PackageVersions {
  private cached: Promise<ComponentVersions> | undefined;

  constructor(
    private readonly runner: ProcessRunner,
    /** `[haproxy_amphora] haproxy_cmd` as the agent was started (a startup option, `paths.haproxyCmd`). */
    private readonly haproxyCmd: () => string,
  ) {}

  get(): Promise<ComponentVersions> {
    this.cached ??= this.discover();
    return this.cached;
  }

  private async discover(): Promise<ComponentVersions> {
    const found = await Promise.all(COMPONENTS.map((c) => this.one(c)));
    const versions = {} as Record<Component, string | null>;
    const unavailable: Partial<Record<Component, string>> = {};
    COMPONENTS.forEach((component, i) => {
      const [version, why] = found[i] ?? [null, 'not probed'];
      versions[component] = version;
      if (why) unavailable[component] = why;
    });
    return { versions, unavailable };
  }

  private async one(component: Component): Promise<[string | null, string | null]> {
    let version = await this.fromDpkg(component);
    version ??= await this.fromRpm(component);
    if (version !== null && component === 'haproxy' && !startsWithMajorMinor(version)) {
      version = startsWithMajorMinor(stripEpoch(version)) ? stripEpoch(version) : null;
    }
    if (version !== null) return [version, null];
    const probe = probes(this.haproxyCmd())[component];
    const binary = await this.fromBinary(probe);
    if (binary !== null) return [binary, null];
    return [null, `no installed package '${component}' (dpkg-query, rpm) and no version from '${probe.cmd} ${probe.args.join(' ')}'`];
  }

  private async fromDpkg(pkg: string): Promise<string | null> {
    const r = await this.runner.run('dpkg-query', ['-W', '-f=${db:Status-Status} ${Version}', pkg], { allowFailure: true });
    const m = r.exitCode === 0 ? /^installed (\S+)$/.exec(r.stdout.trim()) : null;
    return m?.[1] ?? null;
  }

  private async fromRpm(pkg: string): Promise<string | null> {
    const r = await this.runner.run('rpm', ['-q', '--queryformat', '%{VERSION}', pkg], { allowFailure: true });
    const v = r.stdout.trim();
    return r.exitCode === 0 && /^\d/.test(v) ? v : null;
  }

  private async fromBinary(probe: BinaryProbe): Promise<string | null> {
    const r = await this.runner.run(probe.cmd, probe.args, { allowFailure: true });
    return probe.pattern.exec(r.output)?.[1] ?? null;
  }
}
