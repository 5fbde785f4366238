import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, renameSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { UsageEntry } from '../env/usage/entry.ts';

/*
 * The laptop's memory of each environment, safe under many runbox processes
 * at once (`xargs -P 8 runbox myrb ...`):
 * - state.json: its pod (a warm command goes straight to the exec upgrade), its
 *   allocation, when last activity was written. Last writer wins, which is
 *   right for all three.
 * - pending/<id>.json: usage entries not written to the cluster yet, one file
 *   each, so that no process overwrites another's. A flush claims files by
 *   renaming them (only one process can), and removes them once written.
 * A file that cannot be parsed is kept aside, never silently replaced.
 */

export interface CacheState {
  pod?: string | undefined;
  /** Epoch ms when last-activity was last written to the Deployment. */
  touched?: number | undefined;
  /** Allocation units as last seen by this laptop, for the usage ledger. */
  units?: number | undefined;
  /** A failed ledger write was reported; say it again only after a success. */
  usageWarned?: boolean | undefined;
}

export interface Claim {
  entries: UsageEntry[];
  /** The entries are in the ledger: forget them. */
  done(): void;
  /** They are not: keep them for the next flush. */
  release(): void;
}

// A claim left by a process that died mid-flush is taken back after this long.
const STALE_CLAIM_MS = 10 * 60_000;
const CLAIMED = '.claimed-';

export class LaptopCache {
  private readonly dir: string;
  private readonly warn: (message: string) => void;

  constructor(root: string, key: string, warn: (message: string) => void) {
    this.dir = join(root, 'envs', createHash('sha256').update(key).digest('hex').slice(0, 32));
    this.warn = warn;
  }

  read(): CacheState {
    const text = readOrUndefined(join(this.dir, 'state.json'));
    if (text === undefined) return {};
    try {
      return JSON.parse(text) as CacheState;
    } catch {
      this.setAside(join(this.dir, 'state.json'));
      return {};
    }
  }

  /** Merges `patch` into the state; `pod: undefined` forgets the pod. */
  write(patch: CacheState): void {
    const next = { ...this.read(), ...patch };
    try {
      mkdirSync(this.dir, { recursive: true });
      atomicWrite(join(this.dir, 'state.json'), JSON.stringify(next));
    } catch {
      // A cache we cannot write only costs a lookup next time.
    }
  }

  addPending(entry: UsageEntry): void {
    const dir = join(this.dir, 'pending');
    mkdirSync(dir, { recursive: true });
    atomicWrite(join(dir, `${entry.id}.json`), JSON.stringify(entry));
  }

  /** The entries waiting to be written, claimed or not. */
  pending(): UsageEntry[] {
    return this.pendingFiles().flatMap((f) => this.parseEntry(join(this.dir, 'pending', f)));
  }

  /** Takes every unclaimed entry for this process to write. */
  claim(): Claim {
    const owner = randomBytes(4).toString('hex');
    const dir = join(this.dir, 'pending');
    const now = Date.now();
    const taken: { claimed: string; original: string; entry: UsageEntry }[] = [];
    for (const file of this.pendingFiles()) {
      const original = join(dir, file.split(CLAIMED)[0]!);
      const path = join(dir, file);
      if (file.includes(CLAIMED) && now - mtimeOf(path) < STALE_CLAIM_MS) continue;
      const claimed = `${original}${CLAIMED}${owner}`;
      try {
        renameSync(path, claimed);
        // The claim's age counts from now, not from when the entry was written.
        utimesSync(claimed, now / 1000, now / 1000);
      } catch {
        continue; // another process claimed it first
      }
      for (const entry of this.parseEntry(claimed)) taken.push({ claimed, original, entry });
    }
    return {
      entries: taken.map((t) => t.entry),
      done: () => taken.forEach((t) => unlinkQuietly(t.claimed)),
      release: () => taken.forEach((t) => renameQuietly(t.claimed, t.original)),
    };
  }

  private pendingFiles(): string[] {
    try {
      return readdirSync(join(this.dir, 'pending')).filter((f) => f.endsWith('.json') || f.includes(`.json${CLAIMED}`));
    } catch {
      return [];
    }
  }

  private parseEntry(path: string): UsageEntry[] {
    const text = readOrUndefined(path);
    if (text === undefined) return [];
    try {
      return [JSON.parse(text) as UsageEntry];
    } catch {
      this.setAside(path);
      return [];
    }
  }

  private setAside(path: string): void {
    const aside = `${path}.corrupt-${Date.now()}`;
    renameQuietly(path, aside);
    this.warn(`the laptop cache file ${path} could not be read; kept it as ${aside} and started afresh`);
  }
}

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function atomicWrite(path: string, text: string): void {
  const tmp = `${path}.tmp-${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

const mtimeOf = (path: string) => {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return Date.now();
  }
};

const unlinkQuietly = (path: string) => {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
};

const renameQuietly = (from: string, to: string) => {
  try {
    renameSync(from, to);
  } catch {
    // already moved
  }
};

export const cacheKey = (server: string, namespace: string, env: string): string => `${server} ${namespace} ${env}`;
