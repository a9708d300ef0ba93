package playbook

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"

	"github.com/osrun/osrun/internal/hclsource"
	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/modules"
)

// decoder carries what Decode learns while walking the file.
type decoder struct {
	f     *File
	inv   *inventory.Inventory
	reg   *modules.Registry
	funcs map[string]function.Function
	vars  map[string]*variable
	// varsBroken is set when a variable has no usable value; values that
	// depend on variables are then not checked, to report each problem once.
	varsBroken bool
	static     *hcl.EvalContext // var.* and functions: for values known before any host runs
	// hostKeys are the attributes of host.*; nil when the inventory has no
	// host to ask, which disables the check.
	hostKeys []string
	// taskOrder numbers every task key in declaration order, so a reference
	// can tell a later task from an undeclared one.
	taskOrder map[string]int
	taskSeen  map[string]*Task
	waveSeen  map[string]*Wave
	taskIndex int
	// gatedWaves are the waves with a gate, whose task names are reserved;
	// gateIDs are the gate ids known before the run, to refuse duplicates.
	gatedWaves map[string]hcl.Range
	gateIDs    map[string]gateUse
}

// Decode resolves the playbook against an inventory and a module registry.
// vars are --var values (raw text), applied after the varFiles in order.
// It returns nil and error diagnostics when anything is wrong.
func (f *File) Decode(inv *inventory.Inventory, reg *modules.Registry, vars map[string]string, varFiles []string) (*Playbook, hcl.Diagnostics) {
	if inv == nil {
		inv = &inventory.Inventory{}
	}
	d := &decoder{
		f:         f,
		inv:       inv,
		reg:       reg,
		funcs:     withTry(functionsFor(filepath.Dir(f.Filename))),
		taskOrder: map[string]int{},
		taskSeen:  map[string]*Task{},
		waveSeen:  map[string]*Wave{},
		gateIDs:   map[string]gateUse{},
	}
	diags := d.decodeVariables(vars, varFiles)
	varObj, varVals := d.varObject()
	d.static = &hcl.EvalContext{Variables: map[string]cty.Value{"var": varObj}, Functions: d.funcs}
	if len(inv.Hosts) > 0 {
		hv := hostValue(inv, inv.Hosts[0])
		if hv.Type().IsObjectType() {
			for k := range hv.Type().AttributeTypes() {
				d.hostKeys = append(d.hostKeys, k)
			}
			sort.Strings(d.hostKeys)
		}
	}
	d.numberTasks()
	d.gatedWaves = gatedWaves(f.waves)

	pb := &Playbook{Filename: f.Filename, Vars: varVals, varObj: varObj, funcs: d.funcs}
	for _, b := range f.waves {
		w, more := d.decodeWave(b)
		diags = append(diags, more...)
		if w != nil {
			pb.Waves = append(pb.Waves, w)
			pb.tasks = append(pb.tasks, w.Tasks...)
		}
	}
	for _, b := range f.onFailure {
		w, more := d.decodeWave(b)
		diags = append(diags, more...)
		if w != nil {
			w.OnFailure = true
			pb.OnFailure = append(pb.OnFailure, w)
			pb.tasks = append(pb.tasks, w.Tasks...)
		}
	}
	if diags.HasErrors() {
		return nil, diags
	}
	return pb, diags
}

// numberTasks records the declaration order of every task key before the
// waves are decoded. on_failure waves count after every wave wherever they
// are written: they run last, and read what the waves did. A wave's gate
// is its first task (gate.<wave>), so the wave's tasks can read its result.
func (d *decoder) numberTasks() {
	n := 0
	for _, w := range slices.Concat(d.f.waves, d.f.onFailure) {
		body, ok := w.Body.(*hclsyntax.Body)
		if !ok {
			continue
		}
		if _, gated := body.Attributes["gate"]; gated && w.Type != "on_failure" {
			if len(w.Labels) == 1 {
				key := gateModule + "." + w.Labels[0]
				if _, dup := d.taskOrder[key]; !dup {
					d.taskOrder[key] = n
				}
			}
			n++
		}
		for _, b := range body.Blocks {
			if b.Type != "task" || len(b.Labels) != 2 {
				continue
			}
			key := b.Labels[0] + "." + b.Labels[1]
			if _, dup := d.taskOrder[key]; !dup {
				d.taskOrder[key] = n
			}
			n++
		}
	}
}

var waveSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "description"},
		{Name: "hosts", Required: true},
		{Name: "exclude"},
		{Name: "serial"},
		{Name: "max_fail_percentage"},
		{Name: "gate"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "task", LabelNames: []string{"module", "name"}}},
}

func (d *decoder) decodeWave(b *hcl.Block) (*Wave, hcl.Diagnostics) {
	w := &Wave{Name: b.Labels[0], DeclRange: b.DefRange}
	var diags hcl.Diagnostics
	if prev, dup := d.waveSeen[w.Name]; dup {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Duplicate wave",
			Detail:   fmt.Sprintf("A wave named %q was already declared at %s; wave names, on_failure ones included, must be unique.", w.Name, prev.DeclRange),
			Subject:  b.LabelRanges[0].Ptr(),
		})
	} else {
		d.waveSeen[w.Name] = w
	}
	if !hclsource.ValidName(w.Name) {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid wave name",
			Detail:   fmt.Sprintf("A wave name must start with a letter, contain only letters, digits, underscores and dashes, and be at most %d characters long: it heads the plan, the run's output and the journal.", hclsource.MaxName),
			Subject:  b.LabelRanges[0].Ptr(),
		})
	}
	content, more := b.Body.Content(waveSchema)
	diags = append(diags, more...)

	if attr, ok := content.Attributes["description"]; ok {
		diags = append(diags, d.static1(attr, func() hcl.Diagnostics {
			var more hcl.Diagnostics
			w.Description, more = staticString(attr, d.static)
			return more
		})...)
	}
	var include, exclude []*inventory.Host
	if attr, ok := content.Attributes["hosts"]; ok {
		include, more = d.hostRefs(attr)
		diags = append(diags, more...)
	}
	if attr, ok := content.Attributes["exclude"]; ok {
		exclude, more = d.hostRefs(attr)
		diags = append(diags, more...)
	}
	w.Hosts = subtract(include, exclude)
	if attr, ok := content.Attributes["serial"]; ok {
		diags = append(diags, d.static1(attr, func() hcl.Diagnostics {
			var more hcl.Diagnostics
			w.Serial, more = decodeSerial(attr, d.static)
			return more
		})...)
	}
	if attr, ok := content.Attributes["max_fail_percentage"]; ok {
		diags = append(diags, d.static1(attr, func() hcl.Diagnostics {
			v, more := staticValue(attr, cty.Number, d.static)
			if more.HasErrors() || v.IsNull() {
				return more
			}
			p, _ := v.AsBigFloat().Float64()
			if !(p >= 0 && p <= 100) {
				return hcl.Diagnostics{attrError(attr, "Invalid max_fail_percentage",
					"max_fail_percentage is a percentage of the wave's hosts, from 0 (any failure stops the run) to 100 (never stop).")}
			}
			w.MaxFailPercentage = p
			return nil
		})...)
	}
	if !diags.HasErrors() && len(w.Hosts) == 0 && content.Attributes["hosts"] != nil {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagWarning,
			Summary:  "Wave selects no hosts",
			Detail:   fmt.Sprintf("Wave %q will do nothing: its hosts, less the excluded ones, are empty.", w.Name),
			Subject:  content.Attributes["hosts"].Expr.Range().Ptr(),
		})
	}
	if attr, ok := content.Attributes["gate"]; ok {
		// Before the tasks: the gate is the wave's first step, numbered
		// so by numberTasks.
		if b.Type != "on_failure" {
			d.taskIndex++
		}
		t, more := d.decodeWaveGate(w, b.Type == "on_failure", attr)
		diags = append(diags, more...)
		if t != nil {
			w.Tasks = append(w.Tasks, t)
		}
	}
	for _, tb := range content.Blocks {
		t, more := d.decodeTask(tb)
		diags = append(diags, more...)
		if t != nil {
			w.Tasks = append(w.Tasks, t)
		}
	}
	return w, diags
}

// hostRefs reads `group.x`, `host.x`, or a list of them.
func (d *decoder) hostRefs(attr *hcl.Attribute) ([]*inventory.Host, hcl.Diagnostics) {
	exprs := []hcl.Expression{attr.Expr}
	if _, diags := hcl.AbsTraversalForExpr(attr.Expr); diags.HasErrors() {
		list, diags := hcl.ExprList(attr.Expr)
		if diags.HasErrors() {
			return nil, hcl.Diagnostics{invalidHostRef(attr.Expr.Range())}
		}
		exprs = list
	}
	var hosts []*inventory.Host
	var diags hcl.Diagnostics
	for _, e := range exprs {
		tr, more := hcl.AbsTraversalForExpr(e)
		if more.HasErrors() || len(tr) != 2 {
			diags = append(diags, invalidHostRef(e.Range()))
			continue
		}
		step, ok := tr[1].(hcl.TraverseAttr)
		if !ok {
			diags = append(diags, invalidHostRef(e.Range()))
			continue
		}
		switch tr.RootName() {
		case "group":
			g := lookupGroup(d.inv, step.Name)
			if g == nil {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Unknown group",
					Detail:   fmt.Sprintf("The inventory has no group %q.%s", step.Name, didYouMean(step.Name, groupNames(d.inv))),
					Subject:  tr.SourceRange().Ptr(),
				})
				continue
			}
			hosts = append(hosts, g.Hosts...)
		case "host":
			h := lookupHost(d.inv, step.Name)
			if h == nil {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Unknown host",
					Detail:   fmt.Sprintf("The inventory has no host %q.%s", step.Name, didYouMean(step.Name, hostNames(d.inv))),
					Subject:  tr.SourceRange().Ptr(),
				})
				continue
			}
			hosts = append(hosts, h)
		default:
			diags = append(diags, invalidHostRef(e.Range()))
		}
	}
	return hosts, diags
}

func invalidHostRef(rng hcl.Range) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Invalid host reference",
		Detail:   "Expected a reference such as group.updating or host.fe01, or a list of them, written without quotes.",
		Subject:  rng.Ptr(),
	}
}

// subtract returns include without duplicates and without exclude,
// keeping the first occurrence's position.
func subtract(include, exclude []*inventory.Host) []*inventory.Host {
	skip := make(map[*inventory.Host]bool, len(include)+len(exclude))
	for _, h := range exclude {
		skip[h] = true
	}
	var out []*inventory.Host
	for _, h := range include {
		if !skip[h] {
			out = append(out, h)
			skip[h] = true
		}
	}
	return out
}

// checkStatic checks an attribute that is decided before any host runs:
// only var.* may appear in it.
func (d *decoder) checkStatic(attr *hcl.Attribute) hcl.Diagnostics {
	return d.checkRefs(attr.Expr, refScope{what: attr.Name})
}

// refScope says which namespaces an expression may use.
type refScope struct {
	what     string // the attribute, for messages
	host     bool
	task     bool
	self     bool
	taskIdx  int // the index of the task holding the expression
	thisTask string
}

func (d *decoder) checkRefs(expr hcl.Expression, s refScope) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, tr := range expr.Variables() {
		diags = append(diags, d.checkRef(tr, s)...)
	}
	diags = append(diags, d.checkFunctions(expr)...)
	return append(diags, checkStatusComparisons(expr)...)
}

// statuses are the values task.<module>.<name>.status takes.
var statuses = []string{ResultOK, ResultChanged, ResultFailed, ResultSkipped}

// checkStatusComparisons reports a task's status compared with a string it
// never equals (task.x.y.status == "" is never true: a task that has not
// run reads as skipped), a condition that silently never or always holds.
func checkStatusComparisons(expr hcl.Expression) hcl.Diagnostics {
	se, ok := expr.(hclsyntax.Expression)
	if !ok {
		return nil
	}
	var diags hcl.Diagnostics
	_ = hclsyntax.VisitAll(se, func(n hclsyntax.Node) hcl.Diagnostics {
		op, ok := n.(*hclsyntax.BinaryOpExpr)
		if !ok || op.Op != hclsyntax.OpEqual && op.Op != hclsyntax.OpNotEqual {
			return nil
		}
		for _, pair := range [][2]hclsyntax.Expression{{op.LHS, op.RHS}, {op.RHS, op.LHS}} {
			if !isTaskStatus(pair[0]) {
				continue
			}
			lit, ok := literalString(pair[1])
			if !ok || slices.Contains(statuses, lit) {
				continue
			}
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Impossible task status",
				Detail: fmt.Sprintf("A task's status is one of %s, never %q (a task that has not run on the host reads as %q), so this comparison is always %v.",
					strings.Join(statuses, ", "), lit, ResultSkipped, op.Op == hclsyntax.OpNotEqual),
				Subject: pair[1].Range().Ptr(),
			})
		}
		return nil
	})
	return diags
}

// isTaskStatus reports task.<module>.<name>.status, bare or as try's first
// argument.
func isTaskStatus(e hclsyntax.Expression) bool {
	if fc, ok := e.(*hclsyntax.FunctionCallExpr); ok && fc.Name == "try" && len(fc.Args) > 0 {
		e = fc.Args[0]
	}
	st, ok := e.(*hclsyntax.ScopeTraversalExpr)
	if !ok || st.Traversal.RootName() != "task" || len(st.Traversal) != 4 {
		return false
	}
	last, ok := st.Traversal[3].(hcl.TraverseAttr)
	return ok && last.Name == "status"
}

// literalString is the value of a string literal ("x", or a template with
// no interpolation).
func literalString(e hclsyntax.Expression) (string, bool) {
	switch e := e.(type) {
	case *hclsyntax.LiteralValueExpr:
		if e.Val.Type() == cty.String && !e.Val.IsNull() {
			return e.Val.AsString(), true
		}
	case *hclsyntax.TemplateExpr:
		if len(e.Parts) == 0 {
			return "", true
		}
		if e.IsStringLiteral() {
			v, diags := e.Value(nil)
			if !diags.HasErrors() && v.Type() == cty.String {
				return v.AsString(), true
			}
		}
	}
	return "", false
}

// checkFunctions reports calls to functions that do not exist now rather
// than when the first host reaches the task.
func (d *decoder) checkFunctions(expr hcl.Expression) hcl.Diagnostics {
	se, ok := expr.(hclsyntax.Expression)
	if !ok {
		return nil
	}
	var diags hcl.Diagnostics
	_ = hclsyntax.VisitAll(se, func(n hclsyntax.Node) hcl.Diagnostics {
		fc, ok := n.(*hclsyntax.FunctionCallExpr)
		if !ok {
			return nil
		}
		if _, known := d.funcs[fc.Name]; !known {
			names := make([]string, 0, len(d.funcs))
			for name := range d.funcs {
				names = append(names, name)
			}
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Call to unknown function",
				Detail:   fmt.Sprintf("There is no function named %q.%s", fc.Name, didYouMean(fc.Name, names)),
				Subject:  fc.NameRange.Ptr(),
			})
		}
		return nil
	})
	return diags
}

func (d *decoder) checkRef(tr hcl.Traversal, s refScope) hcl.Diagnostics {
	rng := tr.SourceRange().Ptr()
	diag := func(summary, detail string) hcl.Diagnostics {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: rng}}
	}
	attrAt := func(i int) (string, bool) {
		if len(tr) <= i {
			return "", false
		}
		switch step := tr[i].(type) {
		case hcl.TraverseAttr:
			return step.Name, true
		case hcl.TraverseIndex:
			if step.Key.Type() == cty.String && step.Key.IsKnown() && !step.Key.IsNull() {
				return step.Key.AsString(), true
			}
		}
		return "", false
	}
	root := tr.RootName()
	switch {
	case root == "var":
		name, ok := attrAt(1)
		if !ok {
			return diag("Invalid reference", "A variable is referred to as var.<name>.")
		}
		if _, ok := d.vars[name]; !ok {
			return diag("Reference to undeclared variable",
				fmt.Sprintf("No variable %q is declared in this playbook.%s", name, didYouMean(name, d.varNames())))
		}
	case root == "host" && s.host:
		name, ok := attrAt(1)
		if !ok {
			return diag("Invalid reference", "The current host's attributes are referred to as host.<attribute>, e.g. host.name.")
		}
		if d.hostKeys != nil && !contains(d.hostKeys, name) {
			return diag("Unsupported attribute",
				fmt.Sprintf("A host has no attribute %q.%s Hosts have: %s.", name, didYouMean(name, d.hostKeys), listOf(d.hostKeys)))
		}
	case root == "task" && s.task:
		module, ok1 := attrAt(1)
		name, ok2 := attrAt(2)
		if !ok1 || !ok2 {
			return diag("Invalid reference", "A task result is referred to as task.<module>.<name>, e.g. task.command.version.changed.")
		}
		key := module + "." + name
		idx, declared := d.taskOrder[key]
		switch {
		case !declared:
			keys := make([]string, 0, len(d.taskOrder))
			for k := range d.taskOrder {
				keys = append(keys, k)
			}
			return diag("Reference to undeclared task",
				fmt.Sprintf("No task %q is declared in this playbook.%s", key, didYouMean(key, keys)))
		case key == s.thisTask:
			return diag("Reference to a later task",
				fmt.Sprintf("Task %q cannot use its own result; inside until, use self.", key))
		case idx >= s.taskIdx:
			return diag("Reference to a later task",
				fmt.Sprintf("Task %q runs after this one, so its result is not known yet.", key))
		}
	case root == "self" && s.self:
		if len(tr) < 2 {
			return diag("Invalid reference", "self is this task's latest result; refer to one of its attributes, such as self.changed or self.output.")
		}
	default:
		allowed := "var.*"
		if s.host {
			allowed += ", host.*, task.<module>.<name>.*"
		}
		if s.self {
			allowed += " and self"
		}
		return diag("Invalid reference",
			fmt.Sprintf("%q cannot be used in %s; it may refer only to %s.", root, s.what, allowed))
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// withTry adds try() and can(), so a task can read an output that an
// earlier, possibly skipped, task may not have.
func withTry(funcs map[string]function.Function) map[string]function.Function {
	out := make(map[string]function.Function, len(funcs)+2)
	for k, v := range funcs {
		out[k] = v
	}
	out["try"] = tryfunc.TryFunc
	out["can"] = tryfunc.CanFunc
	return out
}
