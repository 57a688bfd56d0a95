/**
 * @module system/init/unit-files
 * Writing rendered units for the file-based init systems: each file is rewritten only when
 * its content would change (the reference writes units once and never again). The texts come
 * from the `UnitRenderer` the adapter was given.
 */
import { removeFile, writeIfChanged } from '../files.js';
import type { DaemonUnitSpec, NetnsUnitSpec, UnitInitKind, UnitRenderer } from './types.js';

export interface UnitLocation {
  readonly kind: UnitInitKind;
  readonly path: (unit: string) => string;
  readonly mode: number;
  readonly render: UnitRenderer;
}

export function unitFilesOf(loc: UnitLocation, daemon: DaemonUnitSpec, netns: NetnsUnitSpec): string[] {
  return [loc.path(netns.unit), loc.path(daemon.unit)];
}

export async function writeUnits(loc: UnitLocation, daemon: DaemonUnitSpec, netns: NetnsUnitSpec): Promise<boolean> {
  const netnsChanged = await writeIfChanged(loc.path(netns.unit), loc.render.netns(loc.kind, netns), loc.mode);
  const daemonChanged = await writeIfChanged(loc.path(daemon.unit), loc.render.daemon(loc.kind, daemon), loc.mode);
  return netnsChanged || daemonChanged;
}

export async function removeUnit(loc: UnitLocation, daemon: DaemonUnitSpec): Promise<void> {
  await removeFile(loc.path(daemon.unit));
}
