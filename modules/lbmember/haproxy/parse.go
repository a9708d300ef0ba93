package haproxy

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/osrun/osrun/modules/lbmember/member"
)

// Admin state bits of "show servers state" (server-t.h, SRV_ADMF_*).
const (
	admFMaint = 0x01 // forced by the CLI
	admIMaint = 0x02 // inherited from a tracked server
	admCMaint = 0x04 // "disabled" in the configuration
	admFDrain = 0x08
	admIDrain = 0x10
	admRMaint = 0x20 // DNS resolution failed
	admHMaint = 0x40 // "hostname" without resolution
	admMaint  = admFMaint | admIMaint | admCMaint | admRMaint | admHMaint
	admDrain  = admFDrain | admIDrain
)

// Operational states (SRV_ST_*).
const opRunning = 2

// serverState is one row of "show servers state".
type serverState struct {
	name    string
	opState int
	admin   int
	uweight int // -1 when the reply has no srv_uweight column
}

// statRow holds the "show stat" columns the driver reads.
type statRow struct {
	scur, qcur int
	status     string
}

func (s serverState) status(row statRow) member.Status {
	// "UP 1/3" is a server between checks: leaving maint, HAProxy marks it
	// running with the lowest "up" health before any check has passed, and
	// one failure takes it down. Only a settled state counts as healthy, so
	// enabling waits for a check that passed after the change.
	settled := !strings.Contains(row.status, "/")
	// The two views are two commands, and a check can fall between them:
	// "show servers state" may still say running when "show stat" already
	// says DOWN. Healthy needs both to agree; NOLB (disable-on-404) takes
	// no new traffic either.
	statUp := !strings.HasPrefix(row.status, "DOWN") && !strings.HasPrefix(row.status, "NOLB") &&
		!strings.HasPrefix(row.status, "MAINT")
	st := member.Status{Name: s.name, State: member.Enabled, Sessions: row.scur + row.qcur,
		Healthy: s.opState == opRunning && settled && statUp, Detail: row.status}
	switch {
	case s.admin&admMaint != 0:
		st.State = member.Disabled
		// HAProxy stops checking a server in maintenance; whatever the
		// operational state says is stale.
		st.Healthy = false
	case s.admin&admDrain != 0:
		st.State = member.Drained
	case s.uweight == 0 || strings.HasPrefix(row.status, "DRAIN"):
		// "set weight B/S 0" (which 2.6 still shows as UP) or an agent's
		// "drain": administratively enabled, but HAProxy sends it no new
		// traffic, so it must not count as in rotation; "set server state
		// ready" does not undo either.
		st.Healthy = false
		if s.uweight == 0 {
			st.Detail += " (weight 0)"
		}
	}
	if st.Detail == "" {
		st.Detail = fmt.Sprintf("op_state %d admin_state %#x", s.opState, s.admin)
	}
	return st
}

// parseServersState reads "show servers state B": a version line, a
// "# "-prefixed header, then space-separated rows.
func parseServersState(reply string) ([]serverState, error) {
	lines := strings.Split(strings.TrimLeft(reply, "\n"), "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[1], "# ") {
		return nil, replyError(reply)
	}
	header := strings.Fields(strings.TrimPrefix(lines[1], "# "))
	col := map[string]int{}
	for i, name := range header {
		col[name] = i
	}
	for _, need := range []string{"srv_name", "srv_op_state", "srv_admin_state"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("the reply has no %s column (format version %q)", need, lines[0])
		}
	}
	var out []serverState
	for _, line := range lines[2:] {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		// Against the header's length, not the columns': a repeated
		// column name would let a short row through (found by fuzzing).
		if len(f) < len(header) {
			return nil, fmt.Errorf("short row %q", line)
		}
		op, err1 := strconv.Atoi(f[col["srv_op_state"]])
		adm, err2 := strconv.Atoi(f[col["srv_admin_state"]])
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("row %q: %w", line, err)
		}
		uw := -1
		if i, ok := col["srv_uweight"]; ok {
			var err error
			if uw, err = strconv.Atoi(f[i]); err != nil {
				return nil, fmt.Errorf("row %q: srv_uweight: %w", line, err)
			}
		}
		out = append(out, serverState{name: f[col["srv_name"]], opState: op, admin: adm, uweight: uw})
	}
	return out, nil
}

// parseStat reads the servers of backend from "show stat" CSV. Columns are
// found by the names in the header line: their positions and number change
// between versions (2.6 appends stats-module columns after a "-" column).
func parseStat(reply, backend string) (map[string]statRow, error) {
	trimmed := strings.TrimLeft(reply, "\n")
	if !strings.HasPrefix(trimmed, "# ") {
		return nil, replyError(reply)
	}
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(trimmed, "# ")))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	// Rows have over 100 fields of which a few are kept: reuse the slice.
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("read the CSV header: %w", err)
	}
	col := map[string]int{}
	for i, name := range header {
		if _, dup := col[name]; !dup {
			col[name] = i
		}
	}
	for _, need := range []string{"pxname", "svname", "scur", "qcur", "status", "type"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("the CSV header has no %s column", need)
		}
	}
	field := func(rec []string, name string) string {
		if i := col[name]; i < len(rec) {
			return rec[i]
		}
		return ""
	}
	out := map[string]statRow{}
	for {
		rec, err := r.Read()
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, fmt.Errorf("read the CSV: %w", err)
		}
		// type 2 is a server; 0 frontend, 1 backend, 3 listener.
		if field(rec, "pxname") != backend || field(rec, "type") != "2" {
			continue
		}
		// Clone what is kept: a field shares the memory of its whole row.
		row := statRow{status: strings.Clone(field(rec, "status"))}
		if row.scur, err = atoi0(field(rec, "scur")); err == nil {
			row.qcur, err = atoi0(field(rec, "qcur"))
		}
		if err != nil {
			return nil, fmt.Errorf("server %s: %w", field(rec, "svname"), err)
		}
		out[strings.Clone(field(rec, "svname"))] = row
	}
	return out, nil
}

// atoi0 reads a counter; HAProxy leaves counters it does not keep empty.
func atoi0(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	return strconv.Atoi(s)
}
