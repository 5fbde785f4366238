import type { Descriptor, ImageIndex, Platform } from './types.ts';

/*
 * Picking a platform's manifest from an index, as containerd does for a
 * node: os and architecture must match; a missing variant means the
 * architecture's default (arm64 is v8, arm is v7, amd64 is v1). Attestation
 * entries (os `unknown`) are never picked. Pure.
 */

const ARCH_ALIASES: Record<string, string> = { x86_64: 'amd64', 'x86-64': 'amd64', aarch64: 'arm64', armhf: 'arm', armel: 'arm' };
const DEFAULT_VARIANT: Record<string, string> = { arm64: 'v8', arm: 'v7', amd64: 'v1' };

export type PlatformPick = { ok: true; descriptor: Descriptor } | { ok: false; available: string[] };

export function normalizePlatform(p: Platform): { os: string; architecture: string; variant: string | undefined } {
  const architecture = ARCH_ALIASES[p.architecture] ?? p.architecture;
  return { os: p.os, architecture, variant: p.variant ?? DEFAULT_VARIANT[architecture] };
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

function isAttestation(d: Descriptor): boolean {
  return d.platform?.os === 'unknown' || d.annotations?.['vnd.docker.reference.type'] !== undefined;
}

export function pickPlatform(index: ImageIndex, want: Platform): PlatformPick {
  const entries = index.manifests.filter((d) => !isAttestation(d));
  // An index that says nothing of platforms and holds one image: that image is for everyone.
  if (entries.length === 1 && !entries[0]?.platform) return { ok: true, descriptor: entries[0] as Descriptor };
  const w = normalizePlatform(want);
  const sameArch = entries.filter((d) => {
    if (!d.platform) return false;
    const p = normalizePlatform(d.platform);
    return p.os === w.os && p.architecture === w.architecture;
  });
  const exact = sameArch.find((d) => normalizePlatform(d.platform as Platform).variant === w.variant);
  // Without a variant asked for, any variant of the architecture will do when the default is absent.
  const chosen = exact ?? (want.variant === undefined ? sameArch[0] : undefined);
  if (chosen) return { ok: true, descriptor: chosen };
  return { ok: false, available: entries.map((d) => (d.platform ? formatPlatform(d.platform) : d.digest)) };
}
