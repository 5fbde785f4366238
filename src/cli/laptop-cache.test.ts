import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { usageEntry } from '../env/usage/entry.ts';
import { LaptopCache } from './laptop-cache.ts';

const entry = (n: number) => usageEntry([`cmd-${n}`], { start: new Date(1_700_000_000_000 + n), durationMs: 10, allocation: 1, exitCode: 0 });

function fresh() {
  const root = mkdtempSync(join(tmpdir(), 'runbox-cache-'));
  const warnings: string[] = [];
  return { root, warnings, cache: () => new LaptopCache(root, 'https://k 1 ns myrb', (m) => warnings.push(m)) };
}

describe('LaptopCache', () => {
  it('merges state and forgets the pod on request', () => {
    const { cache } = fresh();
    cache().write({ pod: 'p1', units: 2 });
    cache().write({ touched: 5 });
    expect(cache().read()).toEqual({ pod: 'p1', units: 2, touched: 5 });
    cache().write({ pod: undefined });
    expect(cache().read().pod).toBeUndefined();
  });

  it('keeps a corrupt state file aside and says so', () => {
    const { root, cache, warnings } = fresh();
    cache().write({ pod: 'p1' });
    const dir = join(root, 'envs', readdirSync(join(root, 'envs'))[0]!);
    writeFileSync(join(dir, 'state.json'), '{not json');
    expect(cache().read()).toEqual({});
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/could not be read; kept it as .*state\.json\.corrupt-\d+/);
    expect(readdirSync(dir).some((f) => f.startsWith('state.json.corrupt-'))).toBe(true);
  });

  it('gives each pending entry to exactly one claim; a released claim is retried, a done one is gone', () => {
    const { cache } = fresh();
    for (let i = 0; i < 10; i++) cache().addPending(entry(i));
    const first = cache().claim();
    cache().addPending(entry(10));
    const second = cache().claim();
    expect(first.entries).toHaveLength(10);
    expect(second.entries.map((e) => e.command)).toEqual(['cmd-10']);
    first.release();
    second.done();
    const third = cache().claim();
    expect(third.entries.map((e) => e.command).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `cmd-${i}`).sort());
    third.done();
    expect(cache().pending()).toEqual([]);
  });

  it('keeps a corrupt pending entry aside instead of dropping the others', () => {
    const { root, cache, warnings } = fresh();
    cache().addPending(entry(1));
    const pending = join(root, 'envs', readdirSync(join(root, 'envs'))[0]!, 'pending');
    writeFileSync(join(pending, 'bad.json'), '{');
    expect(cache().pending().map((e) => e.command)).toEqual(['cmd-1']);
    expect(warnings[0]).toMatch(/bad\.json/);
    expect(existsSync(join(pending, 'bad.json'))).toBe(false);
  });

  it('loses no entry when 40 processes add and claim at once', async () => {
    const { root } = fresh();
    const module = fileURLToPath(new URL('./laptop-cache.ts', import.meta.url));
    const script = `
      import { LaptopCache } from ${JSON.stringify(module)};
      const c = new LaptopCache(process.argv[1], 'https://k 1 ns myrb', () => {});
      const n = Number(process.argv[2]);
      c.addPending({ id: 'e' + n, time: new Date().toISOString(), command: 'c' + n, durationMs: 1, allocation: 1, units: 0, exitCode: 0 });
      const claim = c.claim();
      process.stdout.write(JSON.stringify(claim.entries.map((e) => e.id)));
      claim.done();`;
    const run = (n: number) =>
      new Promise<string[]>((resolve, reject) => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', script, root, String(n)], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString()));
        child.on('error', reject);
        child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as string[]) : reject(new Error(`exit ${code}`))));
      });
    const claimed = (await Promise.all(Array.from({ length: 40 }, (_, i) => run(i)))).flat();
    expect(claimed.sort()).toEqual(Array.from({ length: 40 }, (_, i) => `e${i}`).sort());
  }, 60_000);
});
