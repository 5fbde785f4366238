import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SIDECAR_BUNDLE_FILE } from '../contract/sidecar.ts';
import type { EffectiveConfig } from '../env/config/settings.ts';
import type { SidecarSource } from '../env/lifecycle/sidecar.ts';
import { RunboxError } from '../errors.ts';

/*
 * The sidecar this CLI ships: the bundle built beside it (dist/sidecar), run
 * on the cluster config's Node image; or, for teams that build their own, an
 * image given by --sidecar-image or RUNBOX_SIDECAR_IMAGE.
 */

const BUNDLE = new URL(`../sidecar/${SIDECAR_BUNDLE_FILE}`, import.meta.url);

export function sidecarSource(config: EffectiveConfig, image: string | undefined): SidecarSource {
  const registrySecret = config.registrySecret.value;
  if (image) return { kind: 'image', image, registrySecret };
  let content: string;
  try {
    content = readFileSync(BUNDLE, 'utf8');
  } catch (err) {
    throw new RunboxError(`the sidecar bundle is missing (${BUNDLE.pathname})`, { cause: err, hint: 'run npm run build in the runbox checkout' });
  }
  const hash = createHash('sha256').update(content).digest('hex').slice(0, 12);
  return { kind: 'bundle', hash, content, nodeImage: config.nodeImage.value ?? 'node:24-slim', registrySecret };
}
