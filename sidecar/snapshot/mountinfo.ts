/**
 * Mount points of a process, from the text of `/proc/<pid>/mountinfo`, as paths relative to that
 * process's root: what a walk of `/proc/<pid>/root` must skip (volumes, /proc, /sys, /dev,
 * /etc/hosts...). The root mount itself is not listed. `mountPoints(text): string[]`.
 */

/** The kernel escapes space, tab, newline and backslash in paths as three octal digits. */
const unescapeOctal = (field: string) =>
  field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));

/** Field 5 of one mountinfo line, relative to the root; undefined for the root or a malformed line. */
function mountPointOf(line: string): string | undefined {
  const fields = line.split(' ');
  const point = fields[4];
  if (point === undefined || !point.startsWith('/')) return undefined;
  const relative = unescapeOctal(point).replace(/^\/+/, '').replace(/\/+$/, '');
  return relative === '' ? undefined : relative;
}

/** Every mount point below the root, once each, sorted (so parents come before what they contain). */
export function mountPoints(mountinfo: string): string[] {
  const points = new Set<string>();
  for (const line of mountinfo.split('\n')) {
    const point = mountPointOf(line);
    if (point !== undefined) points.add(point);
  }
  return [...points].sort();
}
