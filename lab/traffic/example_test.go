package traffic_test

import (
	"context"
	"fmt"
	"time"

	"github.com/osrun/osrun/lab/appserver"
	"github.com/osrun/osrun/lab/lb"
	"github.com/osrun/osrun/lab/traffic"
)

// The lab's wiring: the monitor hears the application servers and the
// balancer, the load runs through the balancer, and the verdict is the
// report. Here one front-end is upgraded the guide's way.
func Example() {
	mon := traffic.NewMonitor(0)
	var members []lb.MemberConfig
	apps := map[string]*appserver.Server{}
	for _, name := range []string{"fe01", "fe02"} {
		app, err := appserver.Start(appserver.Config{Name: name, Version: "11.30.0", OnChange: mon.AppState})
		if err != nil {
			panic(err)
		}
		defer app.Close()
		apps[name] = app
		members = append(members, lb.MemberConfig{Name: name, Addr: app.Addr(), CheckPath: appserver.PingDotNet})
	}
	bal, err := lb.New(lb.Config{Members: members, CheckInterval: 20 * time.Millisecond, OnEvent: mon.LBEvent})
	if err != nil {
		panic(err)
	}
	defer bal.Close()
	load, err := traffic.Start(context.Background(), traffic.Config{URL: bal.URL() + "/", Clients: 2,
		Interval: 5 * time.Millisecond, MaxRequests: 5000, MaxDuration: time.Minute, Monitor: mon})
	if err != nil {
		panic(err)
	}

	// What osrun does to fe01 through the runtime API, here done directly.
	bal.SetAdmin("fe01", lb.Drain)
	for st, _ := bal.Member("fe01"); st.Sessions > 0; st, _ = bal.Member("fe01") {
		time.Sleep(time.Millisecond)
	}
	apps["fe01"].Down() // the installer runs
	apps["fe01"].SetVersion("11.31.0")
	apps["fe01"].Up()
	for st, _ := bal.Member("fe01"); !st.Up || st.Detail != "DRAIN"; st, _ = bal.Member("fe01") {
		time.Sleep(time.Millisecond)
	}
	bal.SetAdmin("fe01", lb.Ready)

	report := load.Stop()
	fmt.Println("clean:", report.Clean())
	// Output: clean: true
}
