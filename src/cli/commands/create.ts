import { Command } from 'commander';
import { SUBCOMMANDS } from '../argv.ts';
import type { CreateRequest } from '../../env/lifecycle/create.ts';
import { nameProblems } from '../../env/names.ts';
import { configOverrides } from '../config-overrides.ts';
import { afterProblems, boostFallbackProblems } from './idle.ts';
import { timeoutOption } from '../options.ts';
import { sidecarSource } from '../sidecar-source.ts';
import { envDeps, laptopCache, outputFormat, rejectProblems, withGlobals, type CliContext, type GlobalOptions } from '../context.ts';

interface CreateOptions extends GlobalOptions {
  image?: string;
  allocate: string;
  volumeSize: string;
  storageClass?: string;
  nodeSelector: string[];
  gpu: string;
  sidecarImage?: string;
  keep?: boolean;
  timeout: number;
  dozeAfter?: string;
  sleepAfter?: string;
  boostFallback?: string;
}

/** What create takes from the command line; the rest comes from the cluster config. */
type CreateFlags = Omit<CreateRequest, 'image' | 'storageClass' | 'sidecar'>;
const QUANTITY = /^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$/;

export function validateCreate(name: string, o: CreateOptions): { problems: string[]; req: CreateFlags } {
  const problems = nameProblems(name);
  if (SUBCOMMANDS.has(name)) {
    problems.push(`"${name}" is a runbox command, so "runbox ${name} CMD" could never reach the environment; choose another name`);
  }
  const allocation = Number(o.allocate);
  if (!(allocation > 0)) problems.push(`--allocate must be a number above 0, not "${o.allocate}"`);
  if (!QUANTITY.test(o.volumeSize)) problems.push(`--volume-size must be a quantity such as 10Gi, not "${o.volumeSize}"`);
  const gpus = Number(o.gpu);
  if (!Number.isInteger(gpus) || gpus < 0) problems.push(`--gpu must be a whole number, not "${o.gpu}"`);
  const nodeSelector: Record<string, string> = {};
  for (const kv of o.nodeSelector) {
    const eq = kv.indexOf('=');
    if (eq <= 0) problems.push(`--node-selector must be key=value, not "${kv}"`);
    else nodeSelector[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  problems.push(...afterProblems(o), ...boostFallbackProblems(o.boostFallback));
  return {
    problems,
    req: {
      name,
      idle: { dozeAfter: o.dozeAfter, sleepAfter: o.sleepAfter, boostFallback: o.boostFallback },
      allocation,
      volumeSize: o.volumeSize,
      nodeSelector,
      gpus,
      keep: Boolean(o.keep),
      timeoutMs: o.timeout,
    },
  };
}

export function createCommand(ctx: CliContext): Command {
  return withGlobals(new Command('create'))
    .description('create an environment and wait until it is ready (seed form: runbox --create NAME)')
    .argument('<name>', 'environment name (a DNS label)')
    .option('--image <image>', 'the worker image (default: $RUNBOX_IMAGE, else the cluster config, else debian:bookworm)')
    .option('-a, --allocate <units>', 'allocation units (1 = 1/8 CPU and 128 MiB)', '1')
    .option('--volume-size <size>', 'size of the /data volume', '10Gi')
    .option('--storage-class <class>', "StorageClass of the volume (default: $RUNBOX_STORAGE_CLASS, else the cluster config, else the cluster's default class)")
    .option('--node-selector <key=value>', 'schedule only on matching nodes (repeatable)', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--gpu <count>', 'GPUs for the worker (nvidia.com/gpu)', '0')
    .option('--sidecar-image <image>', "run this sidecar image instead of runbox's own sidecar on the Node image (default: $RUNBOX_SIDECAR_IMAGE)")
    .option('--doze-after <duration>', 'idle time before the worker is shrunk in place (90s, 5m, 1h, never; default: the cluster config, else 10m)')
    .option('--boost-fallback <on|off>', 'on: a boost (-a on a command) ends when the environment dozes or sleeps (default: the cluster config, else off)')
    .option('--sleep-after <duration>', 'idle time before it is snapshotted and scaled to zero (default: the cluster config, else 30m)')
    .option('--keep', 'keep what was created if the environment fails to start')
    .addOption(timeoutOption('the environment to be ready'))
    .action(async (name: string, o: CreateOptions) => {
      const { problems, req } = validateCreate(name, o);
      rejectProblems(problems);
      const [{ createEnv }, { readClusterConfig }] = await Promise.all([
        import('../../env/lifecycle/create.ts'),
        import('../../env/config/cluster-config.ts'),
      ]);
      const deps = await envDeps(ctx, o, { quiet: false });
      const config = await readClusterConfig(deps.kube, configOverrides(ctx.io.env, { image: o.image, storageClass: o.storageClass }));
      const { summary, pod } = await createEnv(deps, {
        ...req,
        image: config.image.value ?? '',
        storageClass: config.storageClass.value,
        sidecar: sidecarSource(config, o.sidecarImage ?? ctx.io.env.RUNBOX_SIDECAR_IMAGE),
      });
      laptopCache(ctx, deps, name).write({ pod: pod.metadata?.name, units: req.allocation });
      await ctx.progress?.close();
      if (outputFormat(o) === 'json') ctx.io.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      else ctx.io.stdout.write(`${summary.name} created (${summary.state}, pod ${summary.pod ?? '-'})\n`);
    });
}
