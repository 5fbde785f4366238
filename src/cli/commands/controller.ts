import { Command, Option } from 'commander';
import { SYSTEM_NAMESPACE } from '../../contract/config.ts';
import { envDeps, rejectProblems, withGlobals, type CliContext, type GlobalOptions } from '../context.ts';

interface ControllerOptions extends GlobalOptions {
  allNamespaces?: boolean;
  metricsPort: string;
  leaseNamespace: string;
}

export function controllerCommand(ctx: CliContext): Command {
  return withGlobals(new Command('controller'))
    .description(
      'run the idle controller here, against your kubeconfig, until Ctrl-C (the cluster normally runs it from manifests/); it takes the same Lease, so it never acts beside an installed one',
    )
    .option('-A, --all-namespaces', "watch every namespace (default: the context's namespace, or -n)")
    .addOption(new Option('--metrics-port <port>', 'serve /metrics and /healthz on this port (0: not at all)').default('0'))
    .addOption(new Option('--lease-namespace <namespace>', 'where its leader-election Lease lives').default(SYSTEM_NAMESPACE))
    .action(async (o: ControllerOptions) => {
      const port = Number(o.metricsPort);
      rejectProblems(Number.isInteger(port) && port >= 0 && port <= 65535 ? [] : [`--metrics-port must be a port number, not "${o.metricsPort}"`]);
      const { runController } = await import('../../../controller/main.ts');
      const deps = await envDeps(ctx, o, { quiet: true });
      await runController({
        kube: deps.kube,
        namespace: o.allNamespaces ? undefined : deps.kube.namespace,
        // A laptop cannot reach pod IPs: the sidecars are asked through the API server's pod proxy.
        sidecarRoute: 'proxy',
        metricsPort: port,
        leaseNamespace: o.leaseNamespace,
        signal: ctx.io.signal ?? new AbortController().signal,
        write: (line) => ctx.io.stderr.write(`${line}\n`),
      });
      // Stopped by Ctrl-C (or a TERM): the signal's exit code, as a local program's.
      const reason = ctx.io.signal?.reason as { exitCode?: number } | undefined;
      ctx.exitCode = reason?.exitCode ?? 0;
    });
}
