package main

import (
	"fmt"
	"sort"

	"github.com/urfave/cli/v2"

	"github.com/osrun/osrun/modules/approval"
)

// approveCommand answers a run's manual gate from another shell or a
// pipeline job; with only a run id it lists what that run is waiting for.
func approveCommand() *cli.Command {
	return &cli.Command{
		Name:      "approve",
		Usage:     "approve (or --deny) a manual gate of a running apply; with only RUN, list its pending gates",
		ArgsUsage: "RUN [GATE]",
		Flags: []cli.Flag{
			inventoryFlag,
			&cli.StringFlag{Name: "state-dir", Usage: "the run's state directory (as printed by apply)"},
			&cli.BoolFlag{Name: "deny", Usage: "refuse the gate: the run stops safely"},
		},
		Action: func(c *cli.Context) error {
			dir := c.String("state-dir")
			if dir == "" && c.String("inventory") != "" {
				dir = stateDir(c, absPath(c.String("inventory")))
			}
			if dir == "" || c.NArg() < 1 || c.NArg() > 2 {
				return &configError{msg: "usage: osrun approve --state-dir DIR RUN [GATE] (apply prints the exact command)"}
			}
			runDir := approval.RunDir(dir, c.Args().Get(0))
			if c.NArg() == 1 {
				pending, err := approval.Pending(runDir)
				if err != nil {
					return &configError{msg: err.Error()}
				}
				if len(pending) == 0 {
					fmt.Fprintln(c.App.Writer, "no gate is waiting")
					return nil
				}
				ids := make([]string, 0, len(pending))
				for id := range pending {
					ids = append(ids, id)
				}
				sort.Strings(ids)
				for _, id := range ids {
					fmt.Fprintf(c.App.Writer, "%s\n  %s\n", id, indent(pending[id], "  "))
				}
				return nil
			}
			gateID := c.Args().Get(1)
			answer, verb := approval.Approve, "approved"
			if c.Bool("deny") {
				answer, verb = approval.Deny, "denied"
			}
			if err := answer(runDir, gateID); err != nil {
				return &configError{msg: err.Error()}
			}
			fmt.Fprintf(c.App.Writer, "%s %s\n", verb, gateID)
			return nil
		},
	}
}
