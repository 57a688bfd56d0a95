/**
 * @module model/plug/plugged-interfaces
 * The `plugged_interfaces` file: one `<mac> <ifname>` line per NIC the agent plugged, which the
 * boot bring-up reads to move each NIC back into the namespace under its recorded name (the
 * reference's netns unit does it with `ip link | awk | join`). Parsing is strict per line: a
 * damaged line is reported by number, never obeyed, and the good lines still count. Pure.
 */

export interface PluggedInterface {
  /** Lower case, as `ip -j link` prints it (the controller may send upper case). */
  readonly mac: string;
  readonly name: string;
}

export interface PluggedInterfaces {
  readonly entries: readonly PluggedInterface[];
  /** `line N: …` for each line that is not `<mac> <ifname>`. */
  readonly problems: readonly string[];
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
/** An interface name that cannot be read as an option of `ip` (no leading `-`). */
const IFNAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/;

export function parsePluggedInterfaces(text: string): PluggedInterfaces {
  const entries: PluggedInterface[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    const [mac = '', name = '', ...rest] = line.split(/\s+/);
    const lower = mac.toLowerCase();
    if (!MAC.test(lower) || !IFNAME.test(name) || rest.length > 0) {
      problems.push(`line ${i + 1}: not "<mac> <ifname>": ${JSON.stringify(line.slice(0, 80))}`);
    } else if (seen.has(lower)) {
      problems.push(`line ${i + 1}: ${lower} is listed twice`);
    } else {
      seen.add(lower);
      entries.push({ mac: lower, name });
    }
  });
  // the reference sorts the file before joining it with the links: the order is not the plug order
  entries.sort((a, b) => a.mac.localeCompare(b.mac));
  return { entries, problems };
}
