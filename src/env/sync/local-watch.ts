import path from 'node:path';
import { watch } from 'chokidar';
import { changeFlag, type ChangeFlag } from './change-flag.ts';
import { IGNORE_FILE, readIgnoreRules, type IgnoreFn } from './ignore-rules.ts';

/*
 * The laptop half of a watch: chokidar on the local folder raises a change
 * flag. Ignored paths (.runboxignore, re-read when it changes) are not even
 * watched, so a node_modules costs no watch handles. Symlinks are never
 * followed, as sync never follows them.
 */

export interface LocalWatch {
  flag: ChangeFlag;
  /** Resolves once the initial scan is done: changes after it are seen. */
  ready: Promise<void>;
  close(): Promise<void>;
}

export async function watchLocal(root: string, onError: (err: Error) => void): Promise<LocalWatch> {
  const flag = changeFlag();
  let ignored: IgnoreFn = await readIgnoreRules(root);
  const relative = (p: string) => path.relative(root, p).split(path.sep).join('/');
  const watcher = watch(root, {
    ignoreInitial: true,
    followSymlinks: false,
    atomic: true,
    ignored: (p, stats) => {
      const rel = relative(p);
      return rel !== '' && !rel.startsWith('..') && ignored(rel, stats?.isDirectory() ?? false);
    },
  });
  watcher.on('all', (_event, p) => {
    if (relative(p) === IGNORE_FILE) {
      void readIgnoreRules(root).then((rules) => (ignored = rules), onError);
    }
    flag.raise();
  });
  watcher.on('error', (err) => onError(err as Error));
  const ready = new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  return { flag, ready, close: () => watcher.close() };
}
