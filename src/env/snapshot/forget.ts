import type { Deployment } from '../../kube/types.ts';
import { RegistryClient } from '../../registry/client.ts';
import { snapshotRepository, versionTag } from '../../contract/snapshot.ts';
import type { EnvDeps } from '../deps.ts';
import { snapshotRecords } from './records.ts';
import type { SnapshotRegistry } from './snapshot-env.ts';

/**
 * On delete: removes the environment's version tags from the registry where
 * it allows deletes, reached from here at its push address. Never fails the
 * delete: it says what was left and why.
 */
export async function forgetSnapshots(deps: EnvDeps, dep: Deployment, registry: SnapshotRegistry | undefined): Promise<string | undefined> {
  const versions = snapshotRecords(dep).filter((r) => !r.commands[0]?.startsWith('rollback to '));
  if (versions.length === 0 || !registry) return undefined;
  const repo = snapshotRepository(deps.kube.namespace, dep.metadata?.name ?? '');
  const client = new RegistryClient({ host: registry.push, signal: deps.signal });
  let removed = 0;
  try {
    for (const r of versions) {
      const outcome = await client.deleteTag(repo, versionTag(r.version));
      if (outcome.kind === 'unsupported') return `registry ${registry.push} does not allow deletes: ${repo} keeps its ${versions.length} versions`;
      if (outcome.kind === 'deleted') removed += 1;
    }
  } catch (err) {
    return `could not remove the snapshots from ${registry.push}/${repo} (${(err as Error).message}); remove them there`;
  }
  return `removed ${removed} snapshot version${removed === 1 ? '' : 's'} from ${registry.push}/${repo}`;
}
