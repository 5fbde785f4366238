/*
 * Image references, `[host[:port]/]path[:tag][@digest]`, read the way docker
 * reads them: a first component with a dot or a colon (or `localhost`) is a
 * registry, anything else lives on Docker Hub, and a one-word Hub name is an
 * official image under `library/`. Pure.
 */

export const DOCKER_HUB = 'docker.io';
/** Where Docker Hub's distribution API actually answers. */
export const DOCKER_HUB_API = 'registry-1.docker.io';
const HUB_ALIASES = new Set([DOCKER_HUB, 'index.docker.io', DOCKER_HUB_API, 'registry.hub.docker.com']);
const OFFICIAL = 'library/';

export interface ImageReference {
  /** host[:port] as written, Docker Hub as `docker.io`. */
  registry: string;
  /** The path inside the registry, Hub official images with `library/`. */
  repository: string;
  tag?: string;
  digest?: string;
}

export type ParsedReference = { ok: true; ref: ImageReference } | { ok: false; problem: string };

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
const PATH = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^\w[\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const SHA256 = /^sha256:[a-f0-9]{64}$/;
// distribution's limit on the whole name (registry and path).
const MAX_NAME = 255;

/** Docker Hub under whichever of its names was written, else the host unchanged. */
export function normalizeRegistry(host: string): string {
  return HUB_ALIASES.has(host.toLowerCase()) ? DOCKER_HUB : host;
}

export function parseReference(text: string): ParsedReference {
  const bad = (why: string): ParsedReference => ({ ok: false, problem: `invalid image reference "${text}": ${why}` });
  if (text === '') return bad('it is empty');

  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) return bad(`"${digest}" is not a digest (algorithm:hex)`);
    if (digest.startsWith('sha256:') && !SHA256.test(digest)) return bad('a sha256 digest has 64 lowercase hex digits');
  }

  let registry = DOCKER_HUB;
  const slash = rest.indexOf('/');
  const first = slash < 0 ? '' : rest.slice(0, slash);
  if (slash >= 0 && (/[.:]/.test(first) || first === 'localhost' || first !== first.toLowerCase())) {
    if (!DOMAIN.test(first)) return bad(`"${first}" is not a registry host[:port]`);
    registry = normalizeRegistry(first);
    rest = rest.slice(slash + 1);
  }

  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) return bad(`"${tag}" is not a tag (letters, digits, _ . -; at most 128)`);
  }

  if (!PATH.test(rest)) {
    const why = rest !== rest.toLowerCase() ? 'repository names must be lowercase' : `"${rest}" is not a repository path`;
    return bad(why);
  }
  const repository = registry === DOCKER_HUB && !rest.includes('/') ? OFFICIAL + rest : rest;
  if (registry.length + 1 + repository.length > MAX_NAME) return bad(`the name is longer than ${MAX_NAME} characters`);

  const ref: ImageReference = { registry, repository };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return { ok: true, ref };
}

/**
 * The reference written out in full (`docker.io/library/debian:bookworm`),
 * or as docker prints it (`debian:bookworm`) with `familiar`.
 */
export function formatReference(ref: ImageReference, opts: { familiar?: boolean } = {}): string {
  let name = `${ref.registry}/${ref.repository}`;
  if (opts.familiar && ref.registry === DOCKER_HUB) {
    name = ref.repository.startsWith(OFFICIAL) && !ref.repository.slice(OFFICIAL.length).includes('/')
      ? ref.repository.slice(OFFICIAL.length)
      : ref.repository;
  }
  return name + (ref.tag !== undefined ? `:${ref.tag}` : '') + (ref.digest !== undefined ? `@${ref.digest}` : '');
}

/** What to ask the registry's manifest endpoint for: the digest if pinned, else the tag, else `latest`. */
export function manifestReference(ref: ImageReference): string {
  return ref.digest ?? ref.tag ?? 'latest';
}

export function isDigest(reference: string): boolean {
  return DIGEST.test(reference);
}

/** Whether `repo` is a repository path a registry accepts (lowercase components joined by `/`). */
export function isRepository(repo: string): boolean {
  return PATH.test(repo);
}

export function isTag(tag: string): boolean {
  return TAG.test(tag);
}
