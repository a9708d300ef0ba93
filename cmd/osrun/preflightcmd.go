package main

import (
	"encoding/json"

	"github.com/urfave/cli/v2"

	"github.com/osrun/osrun/runner/preflight"
)

// preflightCommand runs apply's readiness checks alone and changes nothing.
func preflightCommand() *cli.Command {
	return &cli.Command{
		Name:      "preflight",
		Usage:     "check the farm is ready for a playbook (hosts, versions, installer files, load balancer, Service Center, capacity) without changing anything",
		ArgsUsage: "PLAYBOOK",
		Flags: []cli.Flag{
			inventoryFlag, varFlag, varFileFlag, limitFlag,
			&cli.IntFlag{Name: "forks", Aliases: []string{"f"}, Value: 5, Usage: "checks run at once"},
			&cli.Float64Flag{Name: "min-capacity", Value: preflight.DefaultMinCapacity, Usage: "the share of each zone's in-rotation front-ends the loaded set must carry"},
			&cli.BoolFlag{Name: "json", Usage: "print the report as JSON"},
		},
		Action: func(c *cli.Context) error {
			reg, err := registry()
			if err != nil {
				return err
			}
			l, err := newLoader(c.App.ErrWriter).playbook(c, reg)
			if err != nil {
				return err
			}
			report, err := preflight.Run(c.Context, l.pb, l.inv, preflight.Options{
				Dialers:     dialers(c.App.ErrWriter),
				Forks:       c.Int("forks"),
				Limit:       splitList(c.StringSlice("limit")),
				MinCapacity: c.Float64("min-capacity"),
			})
			if err != nil {
				return &configError{msg: err.Error()}
			}
			if c.Bool("json") {
				enc := json.NewEncoder(c.App.Writer)
				enc.SetIndent("", "  ")
				if err := enc.Encode(report); err != nil {
					return err
				}
			} else {
				if _, err := report.WriteTo(scrubWriter{c.App.Writer}); err != nil {
					return err
				}
			}
			if !report.OK() {
				return &runError{code: ExitPreflight, msg: "the farm is not ready; nothing was changed"}
			}
			return nil
		},
	}
}
