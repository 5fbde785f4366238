import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SidecarStatus } from '../src/contract/sidecar.ts';
import { idleHandshake } from './idle-handshake.ts';

const idle: SidecarStatus = { busy: 0, commands: [], agents: [] };
const busy: SidecarStatus = { busy: 1, commands: ['make'], agents: [] };

function setup(answers: SidecarStatus[], quota: number | undefined = 2500) {
  const dir = mkdtempSync(join(tmpdir(), 'runbox-shm-'));
  const flags = { drain: join(dir, '.runbox-draining'), doze: join(dir, '.runbox-dozing') };
  const asked: boolean[] = [];
  const h = idleHandshake({
    flags,
    activity: async ({ countPrologues }) => {
      asked.push(countPrologues);
      return answers.shift() ?? idle;
    },
    workerQuota: async () => quota,
    holdMs: 50,
    applyMs: 300,
  });
  return { h, flags, asked };
}

describe('idleHandshake', () => {
  it('drains only when nothing runs, and checks again, counting prologues, after raising the flag', async () => {
    const { h, flags, asked } = setup([idle, idle]);
    expect(await h.drain()).toEqual({ ok: true });
    expect(existsSync(flags.drain)).toBe(true);
    expect(asked).toEqual([false, true]);
  });

  it('refuses while something runs, and takes the flag down when a command slipped in meanwhile', async () => {
    const first = setup([busy]);
    expect(await first.h.drain()).toEqual({ ok: false, status: busy });
    expect(existsSync(first.flags.drain)).toBe(false);
    const second = setup([idle, busy]);
    expect(await second.h.drain()).toEqual({ ok: false, status: busy });
    expect(existsSync(second.flags.drain)).toBe(false);
  });

  it('lets a drain lapse when its sleep never comes, and undrain calls it off at once', async () => {
    const { h, flags } = setup([]);
    await h.drain();
    await new Promise((r) => setTimeout(r, 120));
    expect(existsSync(flags.drain)).toBe(false);
    await h.drain();
    await h.undrain();
    expect(existsSync(flags.drain)).toBe(false);
  });

  it('raises the doze flag with the quota the prologue will compare against', async () => {
    const { h, flags } = setup([]);
    expect(await h.doze(2500)).toEqual({ ok: true });
    expect(readFileSync(flags.doze, 'utf8')).toBe('2500\n');
    await h.reset();
    expect(existsSync(flags.doze)).toBe(false);
  });

  it('raises no doze flag when the shrink never reached the cgroup (the kubelet refused it), and says what quota holds', async () => {
    const { h, flags } = setup([], 12500);
    expect(await h.doze(2500)).toEqual({ ok: false, applied: 12500 });
    expect(existsSync(flags.doze)).toBe(false);
    const hidden = setup([], undefined);
    expect(await hidden.h.doze(2500)).toEqual({ ok: true });
  });
});
