/*
 * Three-way reconciliation: what to copy, delete or set aside so that local
 * and remote agree again, given what each looks like now and what both looked
 * like after the last sync (the base). Pure: plain data in, actions out.
 *
 * The policy is Mutagen's "two-way-safe": act only where nothing is lost.
 * Per path, each side is unchanged (sameContent with the base, or absent from
 * both), created, modified or deleted.
 *
 * - Changed on one side only: that change is carried over (copy, or delete on
 *   the other side).
 * - Changed on both: deleted on both, or the same content on both -> nothing.
 *   Deleted on one and modified on the other -> the modified one is copied
 *   back (a changed file is never deleted). Different on both -> conflict.
 * - Without a base (first sync, or the stored state was lost) every present
 *   entry counts as created, so nothing is ever deleted: a path on one side
 *   only is copied, one on both sides with different content is a conflict.
 * - Directories have no content of their own (they are "the same" whenever
 *   both are directories). One created on a side is copied, empty or not. One
 *   deleted on a side is deleted on the other only if nothing under it changed
 *   there; otherwise it is copied back (recreated), with its changed children,
 *   while its unchanged children are deleted as usual.
 * - A type change (file, directory, symlink) on one side only replaces the
 *   other side's entry (delete, then copy), unless that is a directory with
 *   changes under it: then it is a conflict. A type change on both sides to
 *   different types is a conflict.
 *
 * Conflicts. With direction 'both', the remote version moves aside, on both
 * sides, to `<path>.runbox-conflict-remote-<YYYYMMDD-HHMMSS>` (UTC; "-2",
 * "-3"... appended if that name is taken), and the local version stays at the
 * path on both sides: the laptop, where the user edits, keeps its view. In a
 * one-way sync the source wins at the path, and only the target's version
 * moves aside, on the target only ('up': `...-remote-...` on the remote;
 * 'down': `...-local-...` on the laptop). When either version is a directory,
 * the conflict covers everything under the path: the actions that follow it
 * copy the winning side's children, and (two-way) the set-aside directory's
 * children under their new `keepAs` paths.
 *
 * One-way: 'up' keeps only the actions that change the remote, 'down' only
 * those that change the laptop; the target's own changes are left in place.
 *
 * Order: all deletes first, children before parents; then copies and
 * conflicts, parents before children. Paths sort segment by segment ("a",
 * "a/b", "a.txt"), so the output is the same for the same input.
 *
 * Known limit: a file changed on both sides to the same content is a conflict
 * when the two sides' mtimes differ and their size differs from the base
 * (readManifest then has no reason to hash). A caller may hash both versions
 * of such a conflict and drop it when they match.
 */
import { sameContent } from './manifest.ts';
import type { Action, Entry, Manifest, Side } from './types.ts';

export interface DecideOptions {
  direction: 'both' | 'up' | 'down';
  /** Names the conflict copies. */
  now: Date;
}

type Change = 'same' | 'created' | 'modified' | 'deleted';

export function decide(base: Manifest | undefined, local: Manifest, remote: Manifest, opts: DecideOptions): Action[] {
  const b: Manifest = base ?? new Map();
  const sides: Record<Side, Manifest> = { local, remote };
  // Only paths changed on a side lead to an action: they alone are sorted (a re-sync of a large
  // tree changes a handful), in tree order, so that a directory's conflict comes before its children.
  const changed: string[] = [];
  // How many base paths each side still has: where that is all of a side, it has no path the base
  // lacks, and is not scanned again for one.
  let inLocal = 0;
  let inRemote = 0;
  const look = (p: string, be: Entry | undefined, le: Entry | undefined, re: Entry | undefined) => {
    if (change(be, le) !== 'same' || change(be, re) !== 'same') changed.push(p);
  };
  for (const [p, be] of b) {
    const le = local.get(p);
    const re = remote.get(p);
    if (le !== undefined) inLocal += 1;
    if (re !== undefined) inRemote += 1;
    look(p, be, le, re);
  }
  if (inLocal < local.size) for (const [p, le] of local) if (!b.has(p)) look(p, undefined, le, remote.get(p));
  if (inRemote < remote.size) for (const [p, re] of remote) if (!b.has(p) && !local.has(p)) look(p, undefined, undefined, re);
  const paths = sortPaths(changed);
  const changedUnder: Record<Side, Set<string>> = { local: changedAncestors(b, local, paths), remote: changedAncestors(b, remote, paths) };
  let names: Set<string> | undefined; // every name in use, for the conflict copies' names: built at the first conflict
  const taken = () => (names ??= new Set([...b.keys(), ...local.keys(), ...remote.keys()]));
  const stamp = stampOf(opts.now);
  /** Paths whose conflict covers their whole subtree. */
  const conflictRoots = new Set<string>();
  const actions: Action[] = [];
  const copy = (from: Side, entry: Entry) => actions.push({ kind: 'copy', from, entry });
  const del = (on: Side, entry: Entry) => actions.push({ kind: 'delete', on, entry });

  function conflict(p: string, l: Entry, r: Entry): void {
    const aside: Side = opts.direction === 'down' ? 'local' : 'remote';
    const twoWay = opts.direction === 'both';
    const keepAs = freeName(`${p}.runbox-conflict-${aside}-${stamp}`, taken());
    actions.push({ kind: 'conflict', path: p, local: l, remote: r, keepAs, aside, twoWay });
    if (l.type !== 'dir' && r.type !== 'dir') return;
    conflictRoots.add(p);
    const winner = other(aside);
    for (const e of under(sides[winner], p)) copy(winner, e);
    if (twoWay) for (const e of under(sides[aside], p)) copy(aside, { ...e, path: keepAs + e.path.slice(p.length) });
  }

  /** `c` changed at `p`, the other side did not. */
  function oneSide(c: Side, p: string): void {
    const o = other(c);
    const ce = sides[c].get(p);
    const oe = sides[o].get(p);
    if (oe === undefined) {
      if (ce !== undefined) copy(c, ce);
      return;
    }
    // Replacing or deleting the other side's directory would lose what changed under it.
    const keepOther = oe.type === 'dir' && changedUnder[o].has(p);
    if (ce === undefined) {
      if (keepOther) copy(o, oe);
      else del(o, oe);
    } else if (ce.type === oe.type) {
      copy(c, ce);
    } else if (keepOther) {
      conflict(p, c === 'local' ? ce : oe, c === 'local' ? oe : ce);
    } else {
      del(o, oe);
      copy(c, ce);
    }
  }

  for (const p of paths) {
    if (isUnder(p, conflictRoots)) continue;
    const be = b.get(p);
    const l = local.get(p);
    const r = remote.get(p);
    const cl = change(be, l);
    const cr = change(be, r);
    if (cl === 'same' && cr === 'same') continue;
    if (cr === 'same') oneSide('local', p);
    else if (cl === 'same') oneSide('remote', p);
    else if (l === undefined) {
      if (r !== undefined) copy('remote', r); // deleted here, changed there: keep it
    } else if (r === undefined) copy('local', l);
    else if (!sameContent(l, r)) conflict(p, l, r);
  }

  return order(actions.filter((a) => allowed(a, opts.direction)));
}

function change(base: Entry | undefined, now: Entry | undefined): Change {
  if (base === undefined) return now === undefined ? 'same' : 'created';
  if (now === undefined) return 'deleted';
  return sameContent(base, now) ? 'same' : 'modified';
}

/** Every directory with a created or modified entry somewhere under it on this side (among the paths changed on either). */
function changedAncestors(base: Manifest, side: Manifest, changed: string[]): Set<string> {
  const out = new Set<string>();
  for (const p of changed) {
    const c = change(base.get(p), side.get(p));
    if (c !== 'created' && c !== 'modified') continue;
    for (let i = p.lastIndexOf('/'); i > 0; i = p.lastIndexOf('/', i - 1)) {
      const dir = p.slice(0, i);
      if (out.has(dir)) break;
      out.add(dir);
    }
  }
  return out;
}

function isUnder(p: string, roots: Set<string>): boolean {
  if (roots.size === 0) return false;
  for (let i = p.lastIndexOf('/'); i > 0; i = p.lastIndexOf('/', i - 1)) if (roots.has(p.slice(0, i))) return true;
  return false;
}

/** The entries strictly under `dir`, parents first. */
function under(m: Manifest, dir: string): Entry[] {
  const prefix = `${dir}/`;
  return sortPaths([...m.keys()].filter((p) => p.startsWith(prefix))).map((p) => m.get(p) as Entry);
}

function allowed(a: Action, direction: DecideOptions['direction']): boolean {
  if (direction === 'both') return true;
  const target: Side = direction === 'up' ? 'remote' : 'local';
  switch (a.kind) {
    case 'copy':
      return other(a.from) === target;
    case 'delete':
      return a.on === target;
    case 'conflict':
      return true; // already set up for this direction
    default: {
      const never: never = a;
      return never;
    }
  }
}

/** Deletes first, deepest first; then copies and conflicts, parents first. */
function order(actions: Action[]): Action[] {
  const pathOf = (a: Action) => (a.kind === 'conflict' ? a.path : a.entry.path);
  const deletes = actions.filter((a) => a.kind === 'delete');
  const rest = actions.filter((a) => a.kind !== 'delete');
  const byPath = (xs: Action[]) => {
    const keyed = xs.map((a) => ({ a, k: treeKey(pathOf(a)) }));
    keyed.sort((x, y) => (x.k < y.k ? -1 : x.k > y.k ? 1 : 0)); // stable: a conflict stays before its children
    return keyed.map((x) => x.a);
  };
  return [...byPath(deletes).reverse(), ...byPath(rest)];
}

/** Segment-wise order: "/" sorts below every character, so a directory's subtree follows it directly. */
function treeKey(p: string): string {
  return p.replaceAll('/', '\0');
}

function sortPaths(paths: Iterable<string>): string[] {
  return [...paths].map(treeKey).sort().map((k) => k.replaceAll('\0', '/'));
}

function other(s: Side): Side {
  return s === 'local' ? 'remote' : 'local';
}

function freeName(name: string, taken: Set<string>): string {
  let candidate = name;
  for (let n = 2; taken.has(candidate); n++) candidate = `${name}-${n}`;
  taken.add(candidate);
  return candidate;
}

/** YYYYMMDD-HHMMSS in UTC. */
function stampOf(d: Date): string {
  const iso = d.toISOString();
  return `${iso.slice(0, 10).replaceAll('-', '')}-${iso.slice(11, 19).replaceAll(':', '')}`;
}
