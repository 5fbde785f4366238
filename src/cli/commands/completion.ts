import { Command } from 'commander';
import { RunboxError } from '../../errors.ts';
import type { CliContext } from '../context.ts';

const SUBS = 'create run shell list status resize usage stop delete sync config doctor completion help';
const GLOBALS = '--context --namespace -n --kubeconfig --verbose -v --output -o';

// Environment names come from `runbox list -o json`, so they follow --context and -n.
const BASH = `# runbox bash completion: source <(runbox completion bash)
_runbox() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]}
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "${SUBS} --create --list --delete --kill $(_runbox_envs)" -- "$cur") ); return
  fi
  case "$prev" in
    run|shell|status|resize|usage|delete|rm|stop|sync|--create|--delete|-c|-d|--kill|-k) COMPREPLY=( $(compgen -W "$(_runbox_envs)" -- "$cur") ); return;;
    completion) COMPREPLY=( $(compgen -W "bash zsh" -- "$cur") ); return;;
  esac
  COMPREPLY=( $(compgen -W "${GLOBALS} --image --allocate --volume-size --storage-class --node-selector --gpu --sidecar-image --keep --timeout --yes --keep-volume --any-owner --all --all-namespaces --cpu --memory --usage --replace --since --sync --sync-before --sync-after --localpath --remotepath --tty --no-tty --remote --direction --dry-run --cluster" -- "$cur") )
}
_runbox_envs() { runbox list -o json 2>/dev/null | sed -n 's/^    "name": "\\(.*\\)",$/\\1/p'; }
complete -o default -F _runbox runbox
complete -o default -F _runbox kubectl-runbox
`;

const ZSH = `#compdef runbox
# runbox zsh completion: source <(runbox completion zsh)
_runbox() {
  local -a envs subs
  subs=(${SUBS})
  envs=(\${(f)"$(runbox list -o json 2>/dev/null | sed -n 's/^    "name": "\\(.*\\)",$/\\1/p')"})
  if (( CURRENT == 2 )); then
    compadd -- $subs $envs --create --list --delete --kill
  elif [[ \${words[CURRENT-1]} == (run|shell|delete|rm|stop|sync|--create|--delete|--kill) ]]; then
    compadd -- $envs
  else
    _files
  fi
}
compdef _runbox runbox
`;

export function completionCommand(ctx: CliContext): Command {
  return new Command('completion')
    .description('print a shell completion script (bash or zsh)')
    .argument('<shell>', 'bash or zsh')
    .action((shell: string) => {
      if (shell === 'bash') ctx.io.stdout.write(BASH);
      else if (shell === 'zsh') ctx.io.stdout.write(ZSH);
      else throw new RunboxError(`no completion for shell "${shell}"`, { hint: 'use bash or zsh' });
    });
}
