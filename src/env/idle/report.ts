import { ANNOTATION } from '../../contract/names.ts';
import type { Deployment } from '../../kube/types.ts';
import { readClusterConfig } from '../config/cluster-config.ts';
import type { EnvDeps } from '../deps.ts';
import { baselineAllocation } from '../resize/resources-state.ts';
import { idleRecord } from './policy.ts';

export interface PolicySetting {
  value: string;
  /** environment: its own annotation; else where the default came from. */
  source: string;
}

export interface IdleReport {
  dozeAfter: PolicySetting;
  sleepAfter: PolicySetting;
  boostFallback: PolicySetting;
  /** The allocation units a boost falls back to (unknown for an environment created before baselines). */
  baseline: number | undefined;
  /** e.g. "running", "dozing since ... (idle for 10m)", "sleeping since ... (runbox stop)". */
  state: string;
}

/** The environment's idle policy, where each part comes from, and what it is doing now. */
export async function idleReport(deps: EnvDeps, dep: Deployment): Promise<IdleReport> {
  const config = await readClusterConfig(deps.kube, {});
  const ann = dep.metadata?.annotations ?? {};
  const setting = (own: string | undefined, fallback: { value: string | undefined; source: string }): PolicySetting =>
    own !== undefined ? { value: own, source: 'environment' } : { value: fallback.value ?? 'never', source: fallback.source === 'default' ? 'built-in default' : `${fallback.source} config` };
  const record = idleRecord(dep);
  const state = record ? `${record.state} since ${record.at} (${record.why})` : (dep.spec?.replicas ?? 1) === 0 ? 'sleeping' : 'running';
  return {
    dozeAfter: setting(ann[ANNOTATION.dozeAfter], config.dozeAfter),
    sleepAfter: setting(ann[ANNOTATION.sleepAfter], config.sleepAfter),
    boostFallback: setting(ann[ANNOTATION.boostFallback], { ...config.boostFallback, value: config.boostFallback.value ?? 'off' }),
    baseline: baselineAllocation(dep)?.units,
    state,
  };
}
