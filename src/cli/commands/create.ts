import { Command } from 'commander';
import { SUBCOMMANDS } from '../argv.ts';
import type { CreateRequest } from '../../env/lifecycle/create.ts';
import { nameProblems } from '../../env/names.ts';
import { timeoutOption } from '../options.ts';
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
}

export const DEFAULT_IMAGE = 'debian:bookworm';
export const DEFAULT_SIDECAR_IMAGE = 'runbox/sidecar:0.1.0';
const QUANTITY = /^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$/;

export function validateCreate(name: string, o: CreateOptions, env: NodeJS.ProcessEnv): { problems: string[]; req: CreateRequest } {
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
  return {
    problems,
    req: {
      name,
      image: o.image ?? env.RUNBOX_IMAGE ?? DEFAULT_IMAGE,
      sidecarImage: o.sidecarImage ?? env.RUNBOX_SIDECAR_IMAGE ?? DEFAULT_SIDECAR_IMAGE,
      allocation,
      volumeSize: o.volumeSize,
      storageClass: o.storageClass,
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
    .option('--image <image>', `the worker image (default: $RUNBOX_IMAGE or ${DEFAULT_IMAGE})`)
    .option('-a, --allocate <units>', 'allocation units (1 = 1/8 CPU and 128 MiB)', '1')
    .option('--volume-size <size>', 'size of the /data volume', '10Gi')
    .option('--storage-class <class>', 'StorageClass of the volume (default: the cluster default)')
    .option('--node-selector <key=value>', 'schedule only on matching nodes (repeatable)', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--gpu <count>', 'GPUs for the worker (nvidia.com/gpu)', '0')
    .option('--sidecar-image <image>', `the sidecar image (default: $RUNBOX_SIDECAR_IMAGE or ${DEFAULT_SIDECAR_IMAGE})`)
    .option('--keep', 'keep what was created if the environment fails to start')
    .addOption(timeoutOption('the environment to be ready'))
    .action(async (name: string, o: CreateOptions) => {
      const { problems, req } = validateCreate(name, o, ctx.io.env);
      rejectProblems(problems);
      const { createEnv } = await import('../../env/lifecycle/create.ts');
      const deps = await envDeps(ctx, o, { quiet: false });
      const { summary, pod } = await createEnv(deps, req);
      laptopCache(ctx, deps, name).write({ pod: pod.metadata?.name, units: req.allocation });
      await ctx.progress?.close();
      if (outputFormat(o) === 'json') ctx.io.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      else ctx.io.stdout.write(`${summary.name} created (${summary.state}, pod ${summary.pod ?? '-'})\n`);
    });
}
