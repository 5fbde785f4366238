import { Command } from 'commander';
import { configOverrides } from '../config-overrides.ts';
import { envDeps, outputFormat, withGlobals, type CliContext, type GlobalOptions } from '../context.ts';

export function doctorCommand(ctx: CliContext): Command {
  return withGlobals(new Command('doctor'))
    .description('check that the current context can run runbox environments: API server, resize, storage, permissions, Node image')
    .action(async (o: GlobalOptions) => {
      const [{ runDoctor }, { allOk, checkJson, checkLine }] = await Promise.all([
        import('../../env/doctor/run.ts'),
        import('../../env/doctor/checks.ts'),
      ]);
      const results = await runDoctor(await envDeps(ctx, o, { quiet: true }), { overrides: configOverrides(ctx.io.env, {}) });
      await ctx.progress?.close(); // the spinner is gone before the lines come
      const json = outputFormat(o) === 'json';
      ctx.io.stdout.write(json ? `${JSON.stringify(results.map(checkJson), null, 2)}\n` : `${results.map(checkLine).join('\n')}\n`);
      if (!allOk(results)) ctx.exitCode = 1;
    });
}
