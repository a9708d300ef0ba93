package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/osrun/osrun/inventory"
)

func inventoryCommand() *cli.Command {
	return &cli.Command{
		Name:      "inventory",
		Usage:     "show the farm an inventory describes: hosts, zones, roles and the balanced split",
		ArgsUsage: "[PLAYBOOK]",
		Flags:     []cli.Flag{inventoryFlag, &cli.BoolFlag{Name: "json", Usage: "print as JSON"}},
		Action: func(c *cli.Context) error {
			l := newLoader(c.App.ErrWriter)
			path := c.String("inventory")
			if path == "" && c.NArg() == 1 {
				// Take the inventory a playbook names, as apply would.
				file, diags := playbookParse(l, c.Args().First())
				if err := l.report(diags); err != nil {
					return err
				}
				path = file
			}
			if path == "" {
				return &configError{msg: "give an inventory with -i FILE, or a playbook that names one"}
			}
			inv, err := l.inventory(path)
			if err != nil {
				return err
			}
			if c.Bool("json") {
				enc := json.NewEncoder(c.App.Writer)
				enc.SetIndent("", "  ")
				return enc.Encode(inventoryView(inv))
			}
			printInventory(c.App.Writer, inv)
			return nil
		},
	}
}

type hostView struct {
	Name      string   `json:"name"`
	Address   string   `json:"address"`
	Stack     string   `json:"stack"`
	Zone      string   `json:"zone"`
	Roles     []string `json:"roles"`
	Member    string   `json:"member"`
	Transport string   `json:"transport"`
	Split     string   `json:"split,omitempty"`
}

type zoneView struct {
	Name          string   `json:"name"`
	LoadBalancer  string   `json:"load_balancer,omitempty"`
	ServiceCenter string   `json:"service_center,omitempty"`
	Updating      []string `json:"updating"`
	Loaded        []string `json:"loaded"`
}

type invView struct {
	Hosts         []hostView `json:"hosts"`
	Zones         []zoneView `json:"zones"`
	SplitDeclared bool       `json:"split_declared"`
}

func inventoryView(inv *inventory.Inventory) invView {
	v := invView{SplitDeclared: inv.Split.Declared}
	for _, h := range inv.Hosts {
		roles := make([]string, len(h.Roles))
		for i, r := range h.Roles {
			roles[i] = string(r)
		}
		v.Hosts = append(v.Hosts, hostView{
			Name: h.Name, Address: h.Address, Stack: string(h.Stack), Zone: h.Zone,
			Roles: roles, Member: h.Member, Transport: h.Transport, Split: inv.SplitOf(h),
		})
	}
	for _, z := range inv.Zones {
		zv := zoneView{Name: z.Name, LoadBalancer: z.LoadBalancer, ServiceCenter: z.ServiceCenter, Updating: []string{}, Loaded: []string{}}
		for _, h := range z.Hosts {
			switch inv.SplitOf(h) {
			case "updating":
				zv.Updating = append(zv.Updating, h.Name)
			case "loaded":
				zv.Loaded = append(zv.Loaded, h.Name)
			}
		}
		v.Zones = append(v.Zones, zv)
	}
	return v
}

func printInventory(w io.Writer, inv *inventory.Inventory) {
	v := inventoryView(inv)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tADDRESS\tSTACK\tZONE\tROLES\tMEMBER\tTRANSPORT\tSPLIT")
	for _, h := range v.Hosts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", h.Name, h.Address, h.Stack, h.Zone,
			strings.Join(h.Roles, ","), h.Member, h.Transport, dash(h.Split))
	}
	tw.Flush()
	how := "computed"
	if v.SplitDeclared {
		how = "declared"
	}
	fmt.Fprintf(w, "\nBalanced split (%s):\n", how)
	for _, z := range v.Zones {
		fmt.Fprintf(w, "  zone %s: updating [%s], loaded [%s]\n", z.Name, strings.Join(z.Updating, ", "), strings.Join(z.Loaded, ", "))
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
