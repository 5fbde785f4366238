import { describe, expect, it } from 'vitest';
import { decide, type DecideOptions } from './decide.ts';
import { sameContent } from './manifest.ts';
import type { Action, Entry, Manifest, Side } from './types.ts';

// decide() as a table: each row is a base (or none), a local and a remote
// tree, a direction, and the actions expected, written one per string.

const T = 1_700_000_000_000;
const NOW = new Date(Date.UTC(2025, 0, 2, 3, 4, 5));
const STAMP = '20250102-030405';
const H1 = 'a'.repeat(64);

const file = (path: string, size = 1, mtimeMs = T, more: Partial<Entry> = {}): Entry => ({ path, type: 'file', size, mode: 0o644, mtimeMs, ...more });
const dir = (path: string): Entry => ({ path, type: 'dir', size: 0, mode: 0o755, mtimeMs: T });
const link = (path: string, target: string): Entry => ({ path, type: 'symlink', size: 0, mode: 0o777, mtimeMs: T, target });
/** The same file as `file(path)`, edited: another size and mtime. */
const edited = (path: string, n = 1) => file(path, 1 + n, T + n);
const tree = (entries: Entry[]): Manifest => new Map(entries.map((e) => [e.path, e]));

function show(a: Action): string {
  switch (a.kind) {
    case 'copy':
      return `copy ${a.from === 'local' ? 'up' : 'down'} ${a.entry.path}`;
    case 'delete':
      return `delete ${a.on} ${a.entry.path}`;
    case 'conflict':
      return `conflict ${a.path} -> ${a.keepAs} (${a.aside}${a.twoWay ? ', two-way' : ''})`;
  }
}

interface Row {
  name: string;
  /** undefined: no base (first sync, or state lost). */
  base?: Entry[];
  local: Entry[];
  remote: Entry[];
  direction?: DecideOptions['direction'];
  want: string[];
}

const aside = (p: string, side: Side = 'remote') => `${p}.runbox-conflict-${side}-${STAMP}`;

const rows: Row[] = [
  // --- no base: never delete; one side only -> copy; both and different -> conflict
  { name: 'no base, nothing anywhere', local: [], remote: [], want: [] },
  { name: 'no base, file on local only', local: [file('a')], remote: [], want: ['copy up a'] },
  { name: 'no base, file on remote only', local: [], remote: [file('a')], want: ['copy down a'] },
  { name: 'no base, same file on both', local: [file('a')], remote: [file('a')], want: [] },
  {
    name: 'no base (state lost), one side has less: copy, never delete',
    local: [file('a'), file('b'), dir('d'), file('d/x')],
    remote: [file('a')],
    want: ['copy up b', 'copy up d', 'copy up d/x'],
  },
  {
    name: 'no base, different on both: conflict, the remote version moves aside',
    local: [file('a')],
    remote: [edited('a')],
    want: [`conflict a -> ${aside('a')} (remote, two-way)`],
  },
  {
    name: 'no base, dirs on both sides, one child differs',
    local: [dir('d'), file('d/x'), file('d/y')],
    remote: [dir('d'), edited('d/x'), file('d/y')],
    want: [`conflict d/x -> ${aside('d/x')} (remote, two-way)`],
  },
  {
    name: 'no base, file here and dir there: the remote dir moves aside with its children',
    local: [file('d')],
    remote: [dir('d'), file('d/x'), dir('d/e')],
    want: [`conflict d -> ${aside('d')} (remote, two-way)`, `copy down ${aside('d')}/e`, `copy down ${aside('d')}/x`],
  },
  {
    name: 'no base, dir here and file there: the local dir wins at the path, its children follow',
    local: [dir('d'), file('d/x')],
    remote: [file('d')],
    want: [`conflict d -> ${aside('d')} (remote, two-way)`, 'copy up d/x'],
  },
  { name: 'no base, empty dir on local only', local: [dir('e')], remote: [], want: ['copy up e'] },

  // --- with a base: files
  { name: 'unchanged on both', base: [file('a')], local: [file('a')], remote: [file('a')], want: [] },
  { name: 'modified on local', base: [file('a')], local: [edited('a')], remote: [file('a')], want: ['copy up a'] },
  { name: 'modified on remote', base: [file('a')], local: [file('a')], remote: [edited('a')], want: ['copy down a'] },
  { name: 'created on local', base: [file('a')], local: [file('a'), file('b')], remote: [file('a')], want: ['copy up b'] },
  { name: 'deleted on local, unchanged on remote', base: [file('a')], local: [], remote: [file('a')], want: ['delete remote a'] },
  { name: 'deleted on remote, unchanged on local', base: [file('a')], local: [file('a')], remote: [], want: ['delete local a'] },
  { name: 'deleted on both', base: [file('a')], local: [], remote: [], want: [] },
  {
    name: 'modified on both to the same content (same size, equal hashes)',
    base: [file('a', 5)],
    local: [file('a', 5, T + 1, { hash: H1 })],
    remote: [file('a', 5, T + 2, { hash: H1 })],
    want: [],
  },
  { name: 'modified on both to identical entries', base: [file('a')], local: [edited('a')], remote: [edited('a')], want: [] },
  {
    name: 'modified on both, differently: conflict',
    base: [file('a')],
    local: [edited('a', 1)],
    remote: [edited('a', 2)],
    want: [`conflict a -> ${aside('a')} (remote, two-way)`],
  },
  {
    name: 'conflict in a subfolder: keepAs sits beside the file',
    base: [dir('d'), file('d/a')],
    local: [dir('d'), edited('d/a', 1)],
    remote: [dir('d'), edited('d/a', 2)],
    want: [`conflict d/a -> ${aside('d/a')} (remote, two-way)`],
  },
  { name: 'deleted on local, modified on remote: keep it (copy back)', base: [file('a')], local: [], remote: [edited('a')], want: ['copy down a'] },
  { name: 'modified on local, deleted on remote: keep it (copy back)', base: [file('a')], local: [edited('a')], remote: [], want: ['copy up a'] },
  { name: 'created on both, the same', base: [], local: [file('n')], remote: [file('n')], want: [] },
  {
    name: 'created on both, differently: conflict',
    base: [],
    local: [file('n')],
    remote: [edited('n')],
    want: [`conflict n -> ${aside('n')} (remote, two-way)`],
  },
  {
    name: 'touched (new mtime, same size), hash equals the base hash: unchanged',
    base: [file('a', 5, T, { hash: H1 })],
    local: [file('a', 5, T + 9, { hash: H1 })],
    remote: [file('a', 5, T, { hash: H1 })],
    want: [],
  },
  {
    name: 'a mode-only change is not a change (sameContent ignores mode)',
    base: [file('a')],
    local: [file('a', 1, T, { mode: 0o755 })],
    remote: [file('a')],
    want: [],
  },
  {
    name: 'conflict name already taken: "-2" appended',
    base: [file('a')],
    local: [edited('a', 1), file(aside('a'))],
    remote: [edited('a', 2), file(aside('a'))],
    want: [`conflict a -> ${aside('a')}-2 (remote, two-way)`],
  },

  // --- directories
  { name: 'empty dir created on local', base: [], local: [dir('e')], remote: [], want: ['copy up e'] },
  { name: 'empty dir created on remote', base: [], local: [], remote: [dir('e')], want: ['copy down e'] },
  { name: 'empty dir deleted on remote', base: [dir('e')], local: [dir('e')], remote: [], want: ['delete local e'] },
  {
    name: 'dir with children created on remote: parents first',
    base: [],
    local: [],
    remote: [dir('d'), dir('d/e'), file('d/e/f'), file('d/g')],
    want: ['copy down d', 'copy down d/e', 'copy down d/e/f', 'copy down d/g'],
  },
  {
    name: 'dir deleted on local, nothing under it changed on remote: children deleted first',
    base: [dir('d'), dir('d/e'), file('d/e/f'), file('d/g')],
    local: [],
    remote: [dir('d'), dir('d/e'), file('d/e/f'), file('d/g')],
    want: ['delete remote d/g', 'delete remote d/e/f', 'delete remote d/e', 'delete remote d'],
  },
  {
    name: 'dir deleted on local, a child changed on remote: keep the dir and the changed child',
    base: [dir('d'), dir('d/e'), file('d/e/f'), file('d/g')],
    local: [],
    remote: [dir('d'), dir('d/e'), edited('d/e/f'), file('d/g')],
    want: ['delete remote d/g', 'copy down d', 'copy down d/e', 'copy down d/e/f'],
  },
  {
    name: 'dir deleted on remote, a child created on local: keep the dir, upload the child',
    base: [dir('d'), file('d/g')],
    local: [dir('d'), file('d/g'), file('d/new')],
    remote: [],
    want: ['delete local d/g', 'copy up d', 'copy up d/new'],
  },
  {
    name: 'files moved between dirs on local (delete + create)',
    base: [dir('d'), file('d/a'), dir('e')],
    local: [dir('d'), dir('e'), file('e/a')],
    remote: [dir('d'), file('d/a'), dir('e')],
    want: ['delete remote d/a', 'copy up e/a'],
  },

  // --- type changes
  {
    name: 'file -> dir on local only: replace (delete, then copy, then children)',
    base: [file('a')],
    local: [dir('a'), file('a/x')],
    remote: [file('a')],
    want: ['delete remote a', 'copy up a', 'copy up a/x'],
  },
  {
    name: 'dir -> file on local only, nothing changed under it on remote: replace',
    base: [dir('d'), file('d/x')],
    local: [file('d')],
    remote: [dir('d'), file('d/x')],
    want: ['delete remote d/x', 'delete remote d', 'copy up d'],
  },
  {
    name: 'dir -> file on local, a child changed on remote: conflict, the remote dir moves aside',
    base: [dir('d'), file('d/x'), file('d/y')],
    local: [file('d')],
    remote: [dir('d'), edited('d/x'), file('d/y')],
    want: [`conflict d -> ${aside('d')} (remote, two-way)`, `copy down ${aside('d')}/x`, `copy down ${aside('d')}/y`],
  },
  {
    name: 'dir -> file on remote, a child created on local: conflict, the local dir stays',
    base: [dir('d'), file('d/x')],
    local: [dir('d'), file('d/x'), file('d/new')],
    remote: [file('d')],
    want: [`conflict d -> ${aside('d')} (remote, two-way)`, 'copy up d/new', 'copy up d/x'],
  },
  {
    name: 'type changed on both to different types: conflict',
    base: [file('a')],
    local: [link('a', 'elsewhere')],
    remote: [dir('a'), file('a/x')],
    want: [`conflict a -> ${aside('a')} (remote, two-way)`, `copy down ${aside('a')}/x`],
  },
  { name: 'type changed on both to dirs: nothing', base: [file('a')], local: [dir('a')], remote: [dir('a')], want: [] },
  {
    name: 'file -> symlink on remote only: replace',
    base: [file('a')],
    local: [file('a')],
    remote: [link('a', 'b')],
    want: ['delete local a', 'copy down a'],
  },

  // --- symlinks
  { name: 'symlink unchanged (mtime differs, target same)', base: [link('l', 't')], local: [link('l', 't')], remote: [{ ...link('l', 't'), mtimeMs: T + 5 }], want: [] },
  { name: 'symlink retargeted on local', base: [link('l', 't')], local: [link('l', 'u')], remote: [link('l', 't')], want: ['copy up l'] },
  { name: 'symlink created on remote', base: [], local: [], remote: [link('l', '../x')], want: ['copy down l'] },
  { name: 'symlink deleted on local', base: [link('l', 't')], local: [], remote: [link('l', 't')], want: ['delete remote l'] },
  {
    name: 'symlink retargeted on both, differently: conflict',
    base: [link('l', 't')],
    local: [link('l', 'u')],
    remote: [link('l', 'v')],
    want: [`conflict l -> ${aside('l')} (remote, two-way)`],
  },

  // --- one-way
  { name: 'up: modified on local', base: [file('a')], local: [edited('a')], remote: [file('a')], direction: 'up', want: ['copy up a'] },
  { name: 'up: modified on remote is left alone', base: [file('a')], local: [file('a')], remote: [edited('a')], direction: 'up', want: [] },
  { name: 'up: deleted on local', base: [file('a')], local: [], remote: [file('a')], direction: 'up', want: ['delete remote a'] },
  { name: 'up: deleted on remote is left alone', base: [file('a')], local: [file('a')], remote: [], direction: 'up', want: [] },
  { name: 'up: deleted on local, modified on remote: remote keeps it', base: [file('a')], local: [], remote: [edited('a')], direction: 'up', want: [] },
  {
    name: 'up: conflict: local wins at the path, the remote version moves aside on the remote only',
    base: [file('a')],
    local: [edited('a', 1)],
    remote: [edited('a', 2)],
    direction: 'up',
    want: [`conflict a -> ${aside('a')} (remote)`],
  },
  { name: 'up, no base: only local-only entries are copied', local: [file('a'), file('b')], remote: [file('c')], direction: 'up', want: ['copy up a', 'copy up b'] },
  {
    name: 'up: dir deleted on local, child changed on remote: only the unchanged child is deleted',
    base: [dir('d'), file('d/f'), file('d/g')],
    local: [],
    remote: [dir('d'), edited('d/f'), file('d/g')],
    direction: 'up',
    want: ['delete remote d/g'],
  },
  { name: 'down: modified on remote', base: [file('a')], local: [file('a')], remote: [edited('a')], direction: 'down', want: ['copy down a'] },
  { name: 'down: modified on local is left alone', base: [file('a')], local: [edited('a')], remote: [file('a')], direction: 'down', want: [] },
  { name: 'down: deleted on remote', base: [file('a')], local: [file('a')], remote: [], direction: 'down', want: ['delete local a'] },
  {
    name: 'down: conflict: remote wins at the path, the local version moves aside on the laptop only',
    base: [file('a')],
    local: [edited('a', 1)],
    remote: [edited('a', 2)],
    direction: 'down',
    want: [`conflict a -> ${aside('a', 'local')} (local)`],
  },
  {
    name: 'down, no base: local file vs remote dir: the local file moves aside, the remote dir comes down',
    local: [file('d')],
    remote: [dir('d'), file('d/x')],
    direction: 'down',
    want: [`conflict d -> ${aside('d', 'local')} (local)`, 'copy down d/x'],
  },
  {
    name: 'down: dir deleted on local, child changed on remote: dir and child come back',
    base: [dir('d'), file('d/f'), file('d/g')],
    local: [],
    remote: [dir('d'), edited('d/f'), file('d/g')],
    direction: 'down',
    want: ['copy down d', 'copy down d/f'],
  },
  {
    name: 'down: file -> dir on remote only: replace on local',
    base: [file('a')],
    local: [file('a')],
    remote: [dir('a'), file('a/x')],
    direction: 'down',
    want: ['delete local a', 'copy down a', 'copy down a/x'],
  },
];

describe('decide', () => {
  it.each(rows)('$name', (row) => {
    const base = row.base === undefined ? undefined : tree(row.base);
    const got = decide(base, tree(row.local), tree(row.remote), { direction: row.direction ?? 'both', now: NOW });
    expect(got.map(show)).toEqual(row.want);
  });

  it('orders paths segment by segment: a dir, its subtree, then its siblings', () => {
    const remote = [file('a.txt'), dir('a'), file('a/b'), file('a-b'), dir('a/c'), file('a/c/d')];
    const got = decide(undefined, tree([]), tree(remote), { direction: 'both', now: NOW }).map(show);
    expect(got).toEqual(['copy down a', 'copy down a/b', 'copy down a/c', 'copy down a/c/d', 'copy down a-b', 'copy down a.txt']);
  });

  it('gives the same output whatever the order of the maps', () => {
    const base = [dir('d'), file('d/x'), file('d/y'), file('z')];
    const local = [file('d'), file('z'), file('n')];
    const remote = [dir('d'), edited('d/x'), file('d/y'), edited('z'), dir('m')];
    const a = decide(tree(base), tree(local), tree(remote), { direction: 'both', now: NOW });
    const b = decide(tree([...base].reverse()), tree([...local].reverse()), tree([...remote].reverse()), { direction: 'both', now: NOW });
    expect(b).toEqual(a);
  });
});

// Random trees, with the actions applied to in-memory copies: two-way sync
// converges and loses nothing; one-way sync touches only the target.

describe('decide on random trees', () => {
  const SLOTS = ['a', 'a/x', 'a/x/z', 'a/y', 'b', 'b/q', 'c'];

  function rng(seed: number) {
    let s = seed >>> 0;
    return () => {
      s = (s * 1664525 + 1013904223) >>> 0;
      return s / 2 ** 32;
    };
  }

  function randomEntry(p: string, r: () => number): Entry {
    const x = r();
    if (x < 0.35) return dir(p);
    if (x < 0.85) return file(p, 1 + Math.floor(r() * 2), T + Math.floor(r() * 2));
    return link(p, r() < 0.5 ? 't1' : 't2');
  }

  /** A valid tree: every entry's parent is a directory in it. Each slot copies `from` (if given) or is drawn anew. */
  function randomTree(r: () => number, from?: Manifest): Manifest {
    const m: Manifest = new Map();
    for (const p of SLOTS) {
      const parent = p.includes('/') ? m.get(p.slice(0, p.lastIndexOf('/'))) : undefined;
      if (p.includes('/') && parent?.type !== 'dir') continue;
      const old = from?.get(p);
      const x = r();
      if (from && old && x < 0.6) m.set(p, old);
      else if (x < 0.8) m.set(p, randomEntry(p, r));
    }
    return m;
  }

  function apply(start: Record<Side, Manifest>, actions: Action[]): Record<Side, Manifest> {
    const s: Record<Side, Manifest> = { local: new Map(start.local), remote: new Map(start.remote) };
    const other = (x: Side): Side => (x === 'local' ? 'remote' : 'local');
    const parentOk = (m: Manifest, p: string) => !p.includes('/') || m.get(p.slice(0, p.lastIndexOf('/')))?.type === 'dir';
    for (const a of actions) {
      if (a.kind === 'delete') {
        const m = s[a.on];
        expect(m.get(a.entry.path), `delete ${a.entry.path}: what the plan saw`).toEqual(a.entry);
        expect([...m.keys()].some((k) => k.startsWith(`${a.entry.path}/`)), `delete ${a.entry.path}: children first`).toBe(false);
        m.delete(a.entry.path);
      } else if (a.kind === 'copy') {
        const m = s[other(a.from)];
        const there = m.get(a.entry.path);
        expect(there === undefined || there.type === a.entry.type || there.type !== 'dir', `copy ${a.entry.path} over a dir`).toBe(true);
        expect(parentOk(m, a.entry.path), `copy ${a.entry.path}: parent first`).toBe(true);
        m.set(a.entry.path, a.entry);
      } else {
        const from = s[a.aside];
        const winner = other(a.aside);
        const moved = [...from.entries()].filter(([k]) => k === a.path || k.startsWith(`${a.path}/`));
        for (const [k] of moved) from.delete(k);
        for (const [k, e] of moved) from.set(a.keepAs + k.slice(a.path.length), { ...e, path: a.keepAs + k.slice(a.path.length) });
        from.set(a.path, (winner === 'local' ? a.local : a.remote) as Entry);
        const mine = (a.aside === 'local' ? a.local : a.remote) as Entry;
        if (a.twoWay) s[winner].set(a.keepAs, { ...mine, path: a.keepAs });
      }
    }
    return s;
  }

  function changed(base: Manifest, m: Manifest): Entry[] {
    return [...m.values()].filter((e) => {
      const b = base.get(e.path);
      return b === undefined || !sameContent(b, e);
    });
  }

  /** Each changed entry survives on `side`, at its path or, after a conflict at it or above it, under keepAs. */
  function expectNoLoss(side: Manifest, lost: Entry[], actions: Action[], label: string) {
    const conflicts = actions.flatMap((a) => (a.kind === 'conflict' ? [a] : []));
    for (const e of lost) {
      const places = [
        e.path,
        ...conflicts.filter((c) => e.path === c.path || e.path.startsWith(`${c.path}/`)).map((c) => c.keepAs + e.path.slice(c.path.length)),
      ];
      const kept = places.some((p) => {
        const x = side.get(p);
        return x !== undefined && sameContent(x, e);
      });
      expect(kept, `${label}: ${e.path} (${e.type}) lost`).toBe(true);
    }
  }

  it('two-way: both sides end equal, nothing changed is lost, nothing is deleted without a base', () => {
    for (let seed = 1; seed <= 3000; seed++) {
      const r = rng(seed);
      const withBase = r() < 0.8;
      const base = randomTree(r);
      const local = randomTree(r, base);
      const remote = randomTree(r, base);
      const actions = decide(withBase ? base : undefined, local, remote, { direction: 'both', now: NOW });
      if (!withBase) expect(actions.filter((a) => a.kind === 'delete'), `seed ${seed}`).toEqual([]);
      const end = apply({ local, remote }, actions);
      expect([...end.local.keys()].sort(), `seed ${seed}: same paths`).toEqual([...end.remote.keys()].sort());
      for (const [p, e] of end.local) expect(sameContent(e, end.remote.get(p) as Entry), `seed ${seed}: ${p}`).toBe(true);
      const b = withBase ? base : new Map<string, Entry>();
      expectNoLoss(end.local, changed(b, local), actions, `seed ${seed} local`);
      expectNoLoss(end.local, changed(b, remote), actions, `seed ${seed} remote`);
      // Running again right after changes nothing.
      const again = decide(end.local, end.local, end.remote, { direction: 'both', now: NOW });
      expect(again, `seed ${seed}: settled`).toEqual([]);
    }
  });

  it('one-way: only the target changes, and it loses nothing it changed', () => {
    for (let seed = 1; seed <= 2000; seed++) {
      const r = rng(seed);
      const base = randomTree(r);
      const local = randomTree(r, base);
      const remote = randomTree(r, base);
      for (const direction of ['up', 'down'] as const) {
        const actions = decide(base, local, remote, { direction, now: NOW });
        const end = apply({ local, remote }, actions);
        const [source, target]: [Side, Side] = direction === 'up' ? ['local', 'remote'] : ['remote', 'local'];
        expect(end[source], `seed ${seed} ${direction}: source untouched`).toEqual(direction === 'up' ? local : remote);
        expectNoLoss(end[target], changed(base, direction === 'up' ? remote : local), actions, `seed ${seed} ${direction}`);
        // Every source change is now on the target.
        for (const e of changed(base, end[source])) {
          const there = end[target].get(e.path);
          expect(there !== undefined && sameContent(there, e), `seed ${seed} ${direction}: ${e.path} carried`).toBe(true);
        }
      }
    }
  });
});
