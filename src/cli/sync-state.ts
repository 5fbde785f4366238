import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { manifestFromJson, manifestToJson } from '../env/sync/manifest.ts';
import type { Manifest } from '../env/sync/types.ts';

/*
 * The last synced state of one (laptop folder, environment, remote path) on
 * this laptop: what makes a sync three-way. Lost or unreadable, the next
 * sync runs without it and deletes nothing.
 */
export class SyncState {
  private readonly file: string;
  private readonly warn: (m: string) => void;

  constructor(cacheDir: string, key: string, warn: (m: string) => void) {
    this.warn = warn;
    this.file = join(cacheDir, 'sync', `${createHash('sha256').update(key).digest('hex').slice(0, 32)}.json`);
  }

  read(): Manifest | undefined {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return undefined;
    }
    try {
      return manifestFromJson(text);
    } catch {
      const aside = `${this.file}.corrupt-${Date.now()}`;
      renameSync(this.file, aside);
      this.warn(`the last sync state ${this.file} could not be read; kept it as ${aside}; this sync deletes nothing`);
      return undefined;
    }
  }

  write(state: Manifest): void {
    mkdirSync(join(this.file, '..'), { recursive: true });
    const tmp = `${this.file}.tmp-${createHash('sha1').update(String(Math.random())).digest('hex').slice(0, 8)}`;
    writeFileSync(tmp, manifestToJson(state));
    renameSync(tmp, this.file);
  }
}
