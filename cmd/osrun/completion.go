package main

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

// The scripts ask osrun itself for candidates (urfave/cli's
// --generate-bash-completion), so they follow every command and flag added
// later without being regenerated.
const bashCompletion = `# osrun bash completion: source <(osrun completion bash)
_osrun_complete() {
  local cur="${COMP_WORDS[COMP_CWORD]}"
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$(${COMP_WORDS[@]:0:$COMP_CWORD} "$cur" --generate-bash-completion 2>/dev/null)" -- "$cur") )
  else
    local opts
    opts=$(${COMP_WORDS[@]:0:$COMP_CWORD} --generate-bash-completion 2>/dev/null)
    COMPREPLY=( $(compgen -W "$opts" -- "$cur") $(compgen -f -X '!*.hcl' -- "$cur") $(compgen -d -- "$cur") )
  fi
}
complete -o filenames -F _osrun_complete osrun
`

const zshCompletion = `#compdef osrun
# osrun zsh completion: source <(osrun completion zsh)
_osrun() {
  local -a opts
  opts=("${(@f)$(${words[@]:0:#words[@]-1} ${words[-1]:#[^-]*} --generate-bash-completion 2>/dev/null)}")
  _describe 'osrun' opts
  _files -g '*.hcl'
}
compdef _osrun osrun
`

func completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script: source <(osrun completion bash|zsh)",
		ArgsUsage: "bash|zsh",
		Action: func(c *cli.Context) error {
			switch c.Args().First() {
			case "bash":
				fmt.Fprint(c.App.Writer, bashCompletion)
			case "zsh":
				fmt.Fprint(c.App.Writer, zshCompletion)
			default:
				return &configError{msg: "osrun completion: say bash or zsh"}
			}
			return nil
		},
	}
}
