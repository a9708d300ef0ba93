package traffic

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Report is what the load and the monitor saw.
type Report struct {
	Sent, OK, Failed int
	// Failures holds the first failures (Config.MaxFailures of them).
	Failures []Failure
	// Violations are the monitor's; DroppedViolations were counted only.
	Violations        []Violation
	DroppedViolations int
	// Served counts the answers per member that answered.
	Served  map[string]int
	Elapsed time.Duration
	// Stopped says why the load ended ("stopped", "max requests",
	// "max duration"); empty while it runs.
	Stopped string
}

// Clean reports whether no request failed and no front-end was in rotation
// while down or broken.
func (r Report) Clean() bool {
	return r.Failed == 0 && len(r.Violations) == 0 && r.DroppedViolations == 0
}

func (r Report) String() string {
	var b strings.Builder
	verdict := "CLEAN"
	if !r.Clean() {
		verdict = "NOT CLEAN"
	}
	fmt.Fprintf(&b, "traffic: %s: %d requests sent, %d ok, %d failed in %s", verdict, r.Sent, r.OK, r.Failed, r.Elapsed.Round(time.Millisecond))
	if r.Stopped != "" {
		fmt.Fprintf(&b, " (%s)", r.Stopped)
	}
	b.WriteString("\n")
	if len(r.Served) > 0 {
		b.WriteString("  served by:")
		for _, name := range slices.Sorted(maps.Keys(r.Served)) {
			fmt.Fprintf(&b, " %s=%d", name, r.Served[name])
		}
		b.WriteString("\n")
	}
	for _, f := range r.Failures {
		fmt.Fprintf(&b, "  failed: %s\n", f)
	}
	if more := r.Failed - len(r.Failures); more > 0 {
		fmt.Fprintf(&b, "  ... and %d more failed requests\n", more)
	}
	for _, v := range r.Violations {
		fmt.Fprintf(&b, "  violation: %s\n", v)
	}
	if r.DroppedViolations > 0 {
		fmt.Fprintf(&b, "  ... and %d more violations\n", r.DroppedViolations)
	}
	return b.String()
}
