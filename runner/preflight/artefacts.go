package preflight

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/zclconf/go-cty/cty"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/modules"
	"github.com/osrun/osrun/modules/installer"
	"github.com/osrun/osrun/runner/playbook"
)

// installerModule is the module whose tasks name installer files.
const installerModule = "installer"

// planArtefacts finds the installer files pb's installer tasks would use
// on the selected hosts, and where each host's installer task looks for
// the installed version.
//
// Expressions are evaluated before the run, when no task has a result: as
// in the plan verifier, every task's result is unknown, a when that
// depends on one is assumed true (the files must be there if the task may
// run), and an argument that depends on one cannot be checked (a note).
func (c *checker) planArtefacts(pb *playbook.Playbook) map[*inventory.Host]installer.Where {
	where := map[*inventory.Host]installer.Where{}
	if pb == nil {
		return where
	}
	results := map[string]cty.Value{}
	waves := slices.Concat(pb.Waves, pb.OnFailure)
	for _, w := range waves {
		for _, t := range w.Tasks {
			results[t.Key()] = cty.DynamicVal
		}
	}
	byKey := map[[2]string]*Artefact{}
	add := func(path, sum string, t *playbook.Task, h *inventory.Host) {
		sum = strings.ToLower(sum)
		k := [2]string{path, sum}
		a, ok := byKey[k]
		if !ok {
			a = &Artefact{Path: path, SHA256: sum, Tasks: []string{}, Hosts: []string{}}
			byKey[k] = a
			c.report.Artefacts = append(c.report.Artefacts, a)
		}
		if !slices.Contains(a.Tasks, t.Key()) {
			a.Tasks = append(a.Tasks, t.Key())
		}
		if !slices.Contains(a.Hosts, h.Name) {
			a.Hosts = append(a.Hosts, h.Name)
		}
	}
	for _, w := range waves {
		for _, t := range w.Tasks {
			if t.Module != installerModule {
				continue
			}
			for _, h := range w.Hosts {
				if !c.selected[h] {
					continue
				}
				ctx := pb.EvalContext(c.inv, h, results)
				run, known, err := t.StaticWhen(ctx)
				if err != nil {
					c.problem(CheckArtefact, h, "", fmt.Sprintf("task %s in wave %s", t.Key(), w.Name), err)
					continue
				}
				if known && !run {
					continue
				}
				args, unknown := t.StaticArgs(ctx)
				if _, seen := where[h]; !seen {
					where[h] = installer.Where{InstallDir: knownString(args, unknown, "install_dir"), StagingDir: knownString(args, unknown, "staging_dir")}
				}
				var late []string
				for _, u := range unknown {
					if slices.Contains([]string{"source", "script", "packages", "sha256"}, u) {
						late = append(late, u)
					}
				}
				if len(late) > 0 {
					c.note(CheckArtefact, h, "", fmt.Sprintf("task %s: %s known only during the run, not checked", t.Key(), strings.Join(late, ", ")), nil)
					continue
				}
				sum := knownString(args, nil, "sha256")
				for _, name := range []string{"source", "script"} {
					if p := knownString(args, nil, name); p != "" {
						add(p, sum, t, h)
					}
				}
				for _, p := range knownList(args, "packages") {
					add(p, "", t, h)
				}
				if p := knownString(args, nil, "remote_path"); p != "" {
					c.note(CheckArtefact, h, "", fmt.Sprintf("task %s: remote_path %s is read by the host during the run, not checked", t.Key(), p), nil)
				}
			}
		}
	}
	return where
}

// knownString is a string argument, "" when null, unknown or absent.
func knownString(args modules.Args, unknown []string, name string) string {
	v, ok := args[name]
	if !ok || slices.Contains(unknown, name) {
		return ""
	}
	v, _ = v.UnmarkDeep()
	if v.IsNull() || !v.IsKnown() || v.Type() != cty.String {
		return ""
	}
	return v.AsString()
}

func knownList(args modules.Args, name string) []string {
	v, ok := args[name]
	if !ok {
		return nil
	}
	v, _ = v.UnmarkDeep()
	if v.IsNull() || !v.IsWhollyKnown() || !(v.Type().IsListType() || v.Type().IsSetType() || v.Type().IsTupleType()) {
		return nil
	}
	var out []string
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if !e.IsNull() && e.Type() == cty.String {
			out = append(out, e.AsString())
		}
	}
	return out
}

// checkArtefact checks that a's file is a regular file and, when the task
// gives a digest, that it has it.
func (c *checker) checkArtefact(ctx context.Context, i int, a *Artefact) {
	what := "installer file " + a.Path
	size, sum, err := inspect(ctx, a.Path, a.SHA256 != "")
	ok := false
	switch {
	case err != nil:
		c.artefactProblem(i, what+" (for "+strings.Join(a.Hosts, ", ")+")", err)
	case a.SHA256 != "" && sum != a.SHA256:
		c.artefactProblem(i, what+": checksum mismatch", fmt.Errorf("its SHA-256 is %s, task %s expects %s", sum, strings.Join(a.Tasks, ", "), a.SHA256))
	default:
		ok = true
	}
	c.mu.Lock()
	a.Size, a.Actual, a.OK = size, sum, ok
	c.mu.Unlock()
	verdict := "ok"
	if !ok {
		verdict = "PROBLEM"
	}
	c.progress(what + ": " + verdict)
}

// inspect stats path and hashes it when asked. Hashing reads hundreds of
// MB, so it stops when ctx ends.
func inspect(ctx context.Context, path string, hash bool) (int64, string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, "", err
	}
	if !fi.Mode().IsRegular() {
		return 0, "", fmt.Errorf("%s is not a regular file", path)
	}
	if !hash {
		return fi.Size(), "", nil
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, ctxReader{ctx, f}); err != nil {
		return 0, "", fmt.Errorf("hash %s: %w", path, err)
	}
	return fi.Size(), hex.EncodeToString(h.Sum(nil)), nil
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
