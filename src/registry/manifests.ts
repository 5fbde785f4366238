import { repoScope } from './auth.ts';
import { matchesDigest, sha256, shortDigest } from './digest.ts';
import { formatPlatform, pickPlatform } from './platform.ts';
import { isDigest } from './reference.ts';
import { RegistryError, hasCode, type Operation } from './registry-error.ts';
import { discard, type Transport } from './transport.ts';
import {
  INDEX_TYPES,
  MANIFEST_TYPES,
  MEDIA_TYPES,
  isIndexType,
  isManifestType,
  type Digest,
  type ImageIndex,
  type ImageManifest,
  type Platform,
} from './types.ts';

/* Manifests and tags: fetch (checked), resolve for a platform, push, list, delete. */

/** Every manifest type we read, so the registry never converts to schema1 or picks for us. */
const ACCEPT = [...MANIFEST_TYPES, ...INDEX_TYPES].join(', ');

interface FetchedBase {
  mediaType: string;
  digest: Digest;
  /** The bytes as the registry holds them: push these to copy without changing the digest. */
  bytes: Buffer;
}
export type FetchedManifest =
  | (FetchedBase & { kind: 'manifest'; manifest: ImageManifest })
  | (FetchedBase & { kind: 'index'; index: ImageIndex });
export type FetchedImageManifest = Extract<FetchedManifest, { kind: 'manifest' }>;

/** A manifest to push: a parsed one (serialized here) or exact bytes with their media type. */
export type ManifestContent = ImageManifest | ImageIndex | { mediaType: string; bytes: Uint8Array };

export async function getManifest(t: Transport, repo: string, reference: string): Promise<FetchedManifest> {
  const op = { doing: `fetching manifest ${short(reference)}`, repo };
  const res = await t.expect(
    { method: 'GET', target: `/v2/${repo}/manifests/${reference}`, headers: { Accept: ACCEPT }, scopes: [repoScope(repo, 'pull')], op },
    [200],
  );
  const bytes = Buffer.from(await res.arrayBuffer());
  const digest = checkedDigest(t, op, { reference, bytes, header: res.headers.get('docker-content-digest') });
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new RegistryError(`registry ${t.endpoint.host}: ${op.doing} in ${repo}: the manifest is not JSON`, { cause: err });
  }
  const mediaType = manifestMediaType(res.headers.get('content-type'), json);
  if (isIndexType(mediaType) && Array.isArray((json as ImageIndex).manifests)) {
    return { kind: 'index', mediaType, digest, bytes, index: json as ImageIndex };
  }
  const m = json as ImageManifest;
  if (isManifestType(mediaType) && typeof m.config?.digest === 'string' && Array.isArray(m.layers)) {
    return { kind: 'manifest', mediaType, digest, bytes, manifest: m };
  }
  throw new RegistryError(`registry ${t.endpoint.host}: ${op.doing} in ${repo}: unsupported manifest type ${mediaType}`, {
    hint: 'runbox reads OCI and Docker schema2 images; push the image again with a current tool',
  });
}

/**
 * The media type: the reply's Content-Type unless it is generic, else the
 * body's own `mediaType`, else the shape (an OCI manifest may omit the field).
 */
export function manifestMediaType(contentType: string | null, json: unknown): string {
  const header = contentType?.split(';')[0]?.trim().toLowerCase();
  if (header && (isIndexType(header) || isManifestType(header))) return header;
  const body = json as { mediaType?: unknown; manifests?: unknown; layers?: unknown };
  if (typeof body?.mediaType === 'string') return body.mediaType;
  if (Array.isArray(body?.manifests)) return MEDIA_TYPES.ociIndex;
  if (Array.isArray(body?.layers)) return MEDIA_TYPES.ociManifest;
  return header ?? 'unknown';
}

function checkedDigest(t: Transport, op: Operation, got: { reference: string; bytes: Buffer; header: string | null }): Digest {
  const wanted = isDigest(got.reference) ? got.reference : got.header;
  if (wanted && matchesDigest(got.bytes, wanted) === false) {
    throw new RegistryError(`registry ${t.endpoint.host}: ${op.doing} in ${op.repo} returned content that does not match ${shortDigest(wanted)}`, {
      hint: 'the registry, a proxy or a cache in between returned different content; try again',
    });
  }
  // Fetched by tag, or by a digest we cannot check: name the bytes by their sha256, as registries do.
  return isDigest(got.reference) ? got.reference : sha256(got.bytes);
}

export interface ResolvedImage {
  manifest: FetchedImageManifest;
  /** The index the manifest was picked from, when the reference named one. */
  index?: { digest: Digest; mediaType: string };
}

/** The image for `platform`: the manifest itself, or the one its index lists for that platform. */
export async function resolveImage(t: Transport, repo: string, reference: string, platform: Platform): Promise<ResolvedImage> {
  const top = await getManifest(t, repo, reference);
  if (top.kind === 'manifest') return { manifest: top };
  const pick = pickPlatform(top.index, platform);
  if (!pick.ok) {
    throw new RegistryError(
      `registry ${t.endpoint.host}: ${repo}:${short(reference)} has no image for ${formatPlatform(platform)} (it has ${pick.available.join(', ') || 'none'})`,
      { hint: 'use an image built for the cluster nodes’ platform' },
    );
  }
  const chosen = await getManifest(t, repo, pick.descriptor.digest);
  if (chosen.kind !== 'manifest') {
    throw new RegistryError(`registry ${t.endpoint.host}: ${repo}:${short(reference)} nests an index inside its index; runbox does not follow that`, {});
  }
  return { manifest: chosen, index: { digest: top.digest, mediaType: top.mediaType } };
}

/** Pushes a manifest under a tag (or its digest); returns its digest. Push every blob it names first. */
export async function putManifest(t: Transport, repo: string, reference: string, content: ManifestContent): Promise<Digest> {
  const { mediaType, bytes } = encodeManifest(content);
  const digest = sha256(bytes);
  const op = { doing: `pushing manifest ${shortDigest(digest)} as ${short(reference)}`, repo };
  const res = await t.expect(
    {
      method: 'PUT',
      target: `/v2/${repo}/manifests/${reference}`,
      headers: { 'Content-Type': mediaType },
      body: bytes,
      scopes: [repoScope(repo, 'pull,push')],
      op,
    },
    [200, 201, 202],
  );
  await discard(res);
  const stored = res.headers.get('docker-content-digest');
  if (stored && stored.startsWith('sha256:') && stored !== digest) {
    throw new RegistryError(`registry ${t.endpoint.host}: ${op.doing} in ${repo}: the registry stored it as ${shortDigest(stored)}`, {
      hint: 'the registry rewrote the manifest (it may not support this media type)',
    });
  }
  return stored ?? digest;
}

export function encodeManifest(content: ManifestContent): { mediaType: string; bytes: Uint8Array } {
  if ('bytes' in content) return content;
  const mediaType = content.mediaType ?? ('manifests' in content ? MEDIA_TYPES.ociIndex : MEDIA_TYPES.ociManifest);
  return { mediaType, bytes: Buffer.from(JSON.stringify(content)) };
}

/** Every tag of the repository, following pagination; none for a repository the registry does not know. */
export async function listTags(t: Transport, repo: string): Promise<string[]> {
  const op = { doing: 'listing tags', repo };
  const tags: string[] = [];
  let target: string | URL | undefined = `/v2/${repo}/tags/list`;
  while (target !== undefined) {
    const res = await t.send({ method: 'GET', target, scopes: [repoScope(repo, 'pull')], op });
    if (res.status === 404) {
      const err = await t.failure(res, op);
      if (hasCode(err, 'NAME_UNKNOWN')) return tags;
      throw err;
    }
    if (res.status !== 200) throw await t.failure(res, op);
    const page = (await res.json()) as { tags?: string[] | null };
    tags.push(...(page.tags ?? []));
    const next = nextLink(res.headers.get('link'));
    target = next === undefined ? undefined : t.url(next);
  }
  return tags;
}

/** The `rel="next"` target of a Link header (RFC 8288), as distribution paginates. Pure. */
export function nextLink(header: string | null): string | undefined {
  for (const part of (header ?? '').split(',')) {
    const m = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (m && /(^|;)\s*rel="?next"?\s*(;|$)/.test(m[2] as string)) return m[1];
  }
  return undefined;
}

export type DeleteOutcome =
  | { kind: 'deleted'; digest: Digest }
  | { kind: 'not-found' }
  /** The registry refuses deletes (distribution without `storage.delete.enabled`, many hosted ones). */
  | { kind: 'unsupported'; message: string };

/**
 * Deletes a tag by deleting the manifest it points at, the one delete the
 * distribution API has: every other tag on the same manifest goes too.
 */
export async function deleteTag(t: Transport, repo: string, tag: string): Promise<DeleteOutcome> {
  const digest = await tagDigest(t, repo, tag);
  if (digest === undefined) return { kind: 'not-found' };
  const op = { doing: `deleting manifest ${shortDigest(digest)} (tag ${tag})`, repo };
  const res = await t.send({ method: 'DELETE', target: `/v2/${repo}/manifests/${digest}`, scopes: [repoScope(repo, 'delete')], op });
  if (res.status === 202 || res.status === 200 || res.status === 204) {
    await discard(res);
    return { kind: 'deleted', digest };
  }
  const err = await t.failure(res, op);
  if (res.status === 404) return { kind: 'not-found' };
  if (res.status === 405 || hasCode(err, 'UNSUPPORTED')) {
    return { kind: 'unsupported', message: `registry ${t.endpoint.host} does not allow deletes, so ${repo}:${tag} stays` };
  }
  throw err;
}

/** The digest a tag points at (HEAD, or GET when the registry does not say), undefined if there is no such tag. */
async function tagDigest(t: Transport, repo: string, tag: string): Promise<Digest | undefined> {
  const op = { doing: `looking up tag ${tag}`, repo };
  const res = await t.send({ method: 'HEAD', target: `/v2/${repo}/manifests/${tag}`, headers: { Accept: ACCEPT }, scopes: [repoScope(repo, 'pull')], op });
  if (res.status !== 200 && res.status !== 404) throw await t.failure(res, op);
  await discard(res);
  if (res.status === 404) return undefined;
  return res.headers.get('docker-content-digest') ?? (await getManifest(t, repo, tag)).digest;
}

function short(reference: string): string {
  return isDigest(reference) ? shortDigest(reference) : reference;
}
