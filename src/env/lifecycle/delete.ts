import { usageLedgerName, volumeClaimName } from '../../contract/names.ts';
import type { EnvDeps } from '../deps.ts';
import type { SnapshotRegistry } from '../snapshot/snapshot-env.ts';
import { readOwnEnv } from '../inspect/identity.ts';
import { deleteUsage, restStore } from '../usage/ledger.ts';
import { deleteAndWait } from './delete-objects.ts';

/** Deletes the Deployment and, unless kept, the volume with the user's files and the usage ledger. */
export async function deleteEnv(deps: EnvDeps, req: { name: string; anyOwner: boolean; keepVolume: boolean; registry?: SnapshotRegistry | undefined }): Promise<void> {
  const dep = await readOwnEnv(deps.kube, req.name, req.anyOwner);
  deps.progress.step(`deleting deployment ${req.name}`);
  await deleteAndWait(deps.kube, [{ resource: 'deployments', name: req.name }]);
  if (!req.keepVolume) {
    deps.progress.step(`deleting volume ${volumeClaimName(req.name)} and the usage ledger`);
    await deleteAndWait(deps.kube, [{ resource: 'persistentvolumeclaims', name: volumeClaimName(req.name) }]);
    await deleteUsage(restStore(deps.kube), req.name);
    // The volume held the image indexes; the versions go with it.
    const { forgetSnapshots } = await import('../snapshot/forget.ts');
    const said = await forgetSnapshots(deps, dep, req.registry);
    if (said) deps.notice(said);
  }
  deps.progress.done(
    `deleted ${req.name}${req.keepVolume ? ` (volume ${volumeClaimName(req.name)} and usage ledger ${usageLedgerName(req.name)} kept)` : ''}`,
  );
}
