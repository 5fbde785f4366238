import { watch, type FSWatcher } from 'node:fs';

/*
 * An inotify watch of a folder tree, one watch per directory (never per
 * file): Node's own `fs.watch(..., { recursive: true })` on Linux adds a watch
 * for every file, 10,000 of them for a 10,000-file tree, and its setup alone
 * took 0.4 s of CPU there. A directory's watch reports what happens to the
 * names in it (create, write, chmod, delete, rename), which is all a manifest
 * needs.
 *
 * The caller says which directories to watch (it knows them from its walk)
 * and is told each path that changed. A directory created later is reported
 * like any other path; the caller walks it and adds it. What happens inside
 * it before that is caught by that walk.
 */

export interface TreeWatch {
  /** Starts watching these directories (relative paths, '' for the root); known ones are left alone. */
  add(dirs: Iterable<string>): void;
  /** Stops watching this directory and every one under it. */
  drop(dir: string): void;
  readonly size: number;
  close(): void;
}

export interface TreeWatchOptions {
  /** A path (relative to the root) whose entry may have changed; the directory itself when the kernel names nothing. */
  changed(path: string): void;
  /** Watching failed (too many watches, a directory we may not read): the caller stops trusting the watch. */
  failed(err: Error): void;
}

export function watchTree(root: string, opts: TreeWatchOptions): TreeWatch {
  const watchers = new Map<string, FSWatcher>();
  const prefix = root.endsWith('/') ? root : `${root}/`;
  const close = (dir: string) => {
    watchers.get(dir)?.close();
    watchers.delete(dir);
  };
  return {
    add(dirs) {
      for (const dir of dirs) {
        if (watchers.has(dir)) continue;
        let w: FSWatcher;
        try {
          w = watch(dir === '' ? root : prefix + dir, { persistent: false }, (_event, name) => {
            opts.changed(name === null ? dir : dir === '' ? String(name) : `${dir}/${String(name)}`);
          });
        } catch (err) {
          // Gone before we got to it: its parent's watch has reported that.
          if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') continue;
          opts.failed(err as Error);
          continue;
        }
        // A watched directory removed, or its watch lost: the parent reports the name; drop this one.
        w.on('error', () => close(dir));
        watchers.set(dir, w);
      }
    },
    drop(dir) {
      for (const d of [...watchers.keys()]) {
        if (d === dir || dir === '' || d.startsWith(`${dir}/`)) close(d);
      }
    },
    get size() {
      return watchers.size;
    },
    close() {
      for (const w of watchers.values()) w.close();
      watchers.clear();
    },
  };
}
