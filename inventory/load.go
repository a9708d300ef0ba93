package inventory

import (
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"

	"github.com/osrun/osrun/internal/hclsource"
)

var rootSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "defaults"},
		{Type: "load_balancer", LabelNames: []string{"name"}},
		{Type: "service_center", LabelNames: []string{"name"}},
		{Type: "zone", LabelNames: []string{"name"}},
		{Type: "host", LabelNames: []string{"name"}},
		{Type: "group", LabelNames: []string{"name"}},
		{Type: "split"},
	},
}

var defaultsSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{{Type: "ssh"}, {Type: "winrm"}},
}

var endpointSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "driver", Required: true}},
}

var zoneSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "load_balancer"}, {Name: "service_center"}},
}

var hostSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "address"}, {Name: "stack", Required: true}, {Name: "transport"},
		{Name: "zone"}, {Name: "roles"}, {Name: "member"}, {Name: "vars"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "ssh"}, {Type: "winrm"}},
}

var groupSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "hosts", Required: true}},
}

var splitSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "updating", Required: true},
		{Name: "loaded", Required: true},
	},
}

// Built-in group names. updating and loaded come from the split.
const (
	GroupAll        = "all"
	GroupController = "controller"
	GroupFrontends  = "frontends"
	GroupUpdating   = "updating"
	GroupLoaded     = "loaded"
)

var builtinGroups = []string{GroupAll, GroupController, GroupFrontends, GroupUpdating, GroupLoaded}

var (
	stacks     = []string{string(StackDotNet), string(StackJ2EE)}
	roles      = []string{string(RoleController), string(RoleFrontend)}
	transports = []string{"local", "ssh", "winrm"}
)

// Load parses and validates one inventory file. The parser is shared
// across the CLI invocation so diagnostics render with source snippets.
// The inventory is nil exactly when the diagnostics have errors.
// Files larger than 4 MiB or nested deeper than 128 levels are refused
// before they are parsed (hclsource).
func Load(parser *hclparse.Parser, filename string) (*Inventory, hcl.Diagnostics) {
	file, diags := hclsource.Parse(parser, filename)
	return load(file, diags, filename)
}

// LoadSource is Load for in-memory source (tests, fuzzing). Like the
// parser it uses, it returns the file parsed earlier under the same name.
func LoadSource(parser *hclparse.Parser, filename string, src []byte) (*Inventory, hcl.Diagnostics) {
	file, diags := hclsource.ParseSource(parser, filename, src)
	return load(file, diags, filename)
}

func load(file *hcl.File, diags hcl.Diagnostics, filename string) (*Inventory, hcl.Diagnostics) {
	if diags.HasErrors() || file == nil {
		if !diags.HasErrors() {
			diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Failed to read inventory", Detail: "The file could not be parsed."})
		}
		return nil, diags
	}
	baseDir := filepath.Dir(filename)
	l := &loader{
		baseDir: baseDir,
		ctx:     &hcl.EvalContext{Functions: Functions(baseDir)},
		diags:   diags,
		inv: &Inventory{
			Groups:         map[string]*Group{},
			LoadBalancers:  map[string]*Endpoint{},
			ServiceCenters: map[string]*Endpoint{},
		},
		hosts:  map[string]*hostDecl{},
		zones:  map[string]*zoneDecl{},
		groups: map[string]*groupDecl{},
	}
	l.load(file.Body)
	if l.diags.HasErrors() {
		return nil, l.diags
	}
	return l.inv, l.diags
}

type loader struct {
	baseDir string
	ctx     *hcl.EvalContext
	diags   hcl.Diagnostics
	inv     *Inventory

	sshDefaults   SSHSettings
	winrmDefaults WinRMSettings

	hostOrder []*hostDecl
	hosts     map[string]*hostDecl
	zoneOrder []*zoneDecl
	zones     map[string]*zoneDecl
	groups    map[string]*groupDecl
	groupList []*groupDecl
	lbNames   []string
	scNames   []string
}

type hostDecl struct {
	block  *hcl.Block
	host   *Host
	roles  *hcl.Attribute // nil when defaulted
	member *hcl.Attribute // nil when defaulted
}

type zoneDecl struct {
	zone  *Zone
	block *hcl.Block // nil for the implicit default zone
}

type groupDecl struct {
	block   *hcl.Block
	group   *Group
	refs    []ref
	state   int // 0 unresolved, 1 resolving, 2 resolved
	members map[*Host]bool
}

func (l *loader) load(body hcl.Body) {
	content, diags := body.Content(rootSchema)
	l.diags = l.diags.Extend(diags)

	byType := map[string][]*hcl.Block{}
	for _, b := range content.Blocks {
		byType[b.Type] = append(byType[b.Type], b)
	}

	l.declare(byType)
	if len(byType["defaults"]) > 0 {
		l.defaults(byType["defaults"][0])
	}
	for _, b := range byType["load_balancer"] {
		if ep := l.endpoint(b, l.inv.LoadBalancers); ep != nil {
			l.lbNames = append(l.lbNames, ep.Name)
		}
	}
	for _, b := range byType["service_center"] {
		if ep := l.endpoint(b, l.inv.ServiceCenters); ep != nil {
			l.scNames = append(l.scNames, ep.Name)
		}
	}
	for _, z := range l.zoneOrder {
		l.zone(z)
	}
	for _, h := range l.hostOrder {
		l.host(h)
	}
	if len(l.hostOrder) == 0 && !l.diags.HasErrors() {
		l.errorf(body.MissingItemRange(), nil, "No hosts",
			"An inventory declares at least the controller and two front-ends with host blocks.")
		return
	}
	l.zoneHosts()
	hostsOK := !l.diags.HasErrors()
	if hostsOK {
		l.zoneEndpoints()
		l.controller()
		l.members()
	}
	l.builtinGroups()
	l.userGroups()
	if !l.diags.HasErrors() {
		l.split(byType["split"])
	}
	l.splitGroups()
}

// declare registers every named block, so references may point forward,
// and reports bad and duplicate names.
func (l *loader) declare(byType map[string][]*hcl.Block) {
	for _, typ := range []string{"defaults", "split"} {
		blocks := byType[typ]
		for _, b := range blocks[min(1, len(blocks)):] {
			l.errorf(b.DefRange, nil, "Duplicate "+typ+" block",
				"Only one %s block is allowed; the first is at %s.", typ, blocks[0].DefRange)
		}
	}
	seen := map[string]map[string]*hcl.Block{}
	keep := func(b *hcl.Block) bool {
		name := b.Labels[0]
		noun := kindNoun[b.Type]
		if !hclsource.ValidName(name) {
			l.errorf(b.LabelRanges[0], &b.DefRange, "Invalid "+noun+" name",
				"A %s name is used in references such as %s.%s, so it must start with a letter, contain only letters, digits, underscores and dashes, and be at most %d characters long.", noun, b.Type, "name", hclsource.MaxName)
			return false
		}
		if seen[b.Type] == nil {
			seen[b.Type] = map[string]*hcl.Block{}
		}
		if first, dup := seen[b.Type][name]; dup {
			l.errorf(b.DefRange, nil, "Duplicate "+noun,
				"A %s named %q was already declared at %s. Each %s needs a unique name.", noun, name, first.DefRange, noun)
			return false
		}
		seen[b.Type][name] = b
		return true
	}
	for _, b := range byType["load_balancer"] {
		keep(b)
	}
	for _, b := range byType["service_center"] {
		keep(b)
	}
	for _, b := range byType["zone"] {
		if keep(b) {
			z := &zoneDecl{zone: &Zone{Name: b.Labels[0]}, block: b}
			l.zones[z.zone.Name] = z
			l.zoneOrder = append(l.zoneOrder, z)
		}
	}
	for _, b := range byType["host"] {
		if keep(b) {
			h := &hostDecl{block: b, host: &Host{Name: b.Labels[0], DeclRange: b.DefRange}}
			l.hosts[h.host.Name] = h
			l.hostOrder = append(l.hostOrder, h)
		}
	}
	for _, b := range byType["group"] {
		name := b.Labels[0]
		if slices.Contains(builtinGroups, name) {
			l.errorf(b.LabelRanges[0], &b.DefRange, "Reserved group name",
				"The group %q is built in (%s) and cannot be redeclared; choose another name.", name, quoteList(builtinGroups))
			continue
		}
		if keep(b) {
			g := &groupDecl{block: b, group: &Group{Name: name, DeclRange: b.DefRange}}
			l.groups[name] = g
			l.groupList = append(l.groupList, g)
		}
	}
}

func (l *loader) defaults(block *hcl.Block) {
	content, diags := block.Body.Content(defaultsSchema)
	l.diags = l.diags.Extend(diags)
	l.once(content.Blocks, "ssh", func(b *hcl.Block) { l.applySSH(&l.sshDefaults, b) })
	l.once(content.Blocks, "winrm", func(b *hcl.Block) { l.applyWinRM(&l.winrmDefaults, b) })
}

// once applies fn to the only block of type typ, reporting repeats.
func (l *loader) once(blocks hcl.Blocks, typ string, fn func(*hcl.Block)) {
	var first *hcl.Block
	for _, b := range blocks.OfType(typ) {
		if first != nil {
			l.errorf(b.DefRange, nil, "Duplicate "+typ+" block",
				"Only one %s block is allowed here; the first is at %s.", typ, first.DefRange)
			continue
		}
		first = b
		fn(b)
	}
}

// endpoint decodes a load_balancer or service_center block into into.
func (l *loader) endpoint(block *hcl.Block, into map[string]*Endpoint) *Endpoint {
	name := block.Labels[0]
	if _, dup := into[name]; dup || !hclsource.ValidName(name) {
		return nil // reported by declare
	}
	ep := &Endpoint{Name: name, Settings: Values{}, DeclRange: block.DefRange}
	into[name] = ep
	content, rest, diags := block.Body.PartialContent(endpointSchema)
	l.diags = l.diags.Extend(diags)
	set(content.Attributes["driver"], l.str, &ep.Driver)
	attrs, diags := rest.JustAttributes()
	l.diags = l.diags.Extend(diags)
	for _, a := range sortedAttrs(attrs) {
		v, ok := l.value(a, cty.DynamicPseudoType)
		if !ok {
			continue
		}
		if isCredentialName(a.Name) {
			if _, ok := l.secretValue(a); !ok {
				continue
			}
		}
		ep.Settings[a.Name] = v
	}
	return ep
}

// isCredentialName reports driver settings that must be secrets. Drivers
// check their own settings too; this catches the obvious cases at load
// time for every driver alike.
func isCredentialName(name string) bool {
	switch name {
	case "password", "passphrase", "token", "secret", "api_key", "client_secret":
		return true
	}
	for _, suffix := range []string{"_password", "_passphrase", "_token", "_secret"} {
		if strings.HasSuffix(name, suffix) {
			return true
		}
	}
	return false
}

func sortedAttrs(attrs hcl.Attributes) []*hcl.Attribute {
	out := make([]*hcl.Attribute, 0, len(attrs))
	for _, a := range attrs {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b *hcl.Attribute) int { return a.Range.Start.Byte - b.Range.Start.Byte })
	return out
}

func (l *loader) zone(z *zoneDecl) {
	content, diags := z.block.Body.Content(zoneSchema)
	l.diags = l.diags.Extend(diags)
	if a := content.Attributes["load_balancer"]; a != nil {
		if r, ok := l.parseRef(a.Expr, &a.Range, "load_balancer"); ok {
			if _, found := l.inv.LoadBalancers[r.name]; found {
				z.zone.LoadBalancer = r.name
			} else {
				l.unknown(r, l.lbNames)
			}
		}
	}
	if a := content.Attributes["service_center"]; a != nil {
		if r, ok := l.parseRef(a.Expr, &a.Range, "service_center"); ok {
			if _, found := l.inv.ServiceCenters[r.name]; found {
				z.zone.ServiceCenter = r.name
			} else {
				l.unknown(r, l.scNames)
			}
		}
	}
}

func (l *loader) host(d *hostDecl) {
	h := d.host
	content, diags := d.block.Body.Content(hostSchema)
	l.diags = l.diags.Extend(diags)
	at := content.Attributes

	set(at["stack"], func(a *hcl.Attribute) (Stack, bool) {
		s, ok := l.enum(a, "Invalid stack", stacks...)
		return Stack(s), ok
	}, &h.Stack)
	switch h.Stack {
	case StackDotNet:
		h.Transport = "winrm"
	case StackJ2EE:
		h.Transport = "ssh"
	}
	set(at["transport"], func(a *hcl.Attribute) (string, bool) {
		return l.enum(a, "Invalid transport", transports...)
	}, &h.Transport)

	set(at["address"], l.str, &h.Address)
	if at["address"] == nil {
		if h.Transport == "local" {
			h.Address = "localhost"
		} else if h.Transport != "" {
			l.errorf(d.block.Body.MissingItemRange(), &d.block.DefRange, "Missing required argument",
				"The argument \"address\" is required for a host reached over %s.", h.Transport)
		}
	} else if h.Address == "" {
		a := at["address"]
		l.errorf(a.Expr.Range(), &a.Range, "Invalid address", "The address of a host must not be empty.")
	}

	h.Zone = DefaultZone
	if a := at["zone"]; a != nil {
		if r, ok := l.parseRef(a.Expr, &a.Range, "zone"); ok {
			if _, found := l.zones[r.name]; found || r.name == DefaultZone {
				h.Zone = r.name
			} else {
				names := []string{DefaultZone}
				for _, z := range l.zoneOrder {
					names = append(names, z.zone.Name)
				}
				l.unknown(r, names)
			}
		}
	}

	h.Roles = []Role{RoleFrontend}
	if a := at["roles"]; a != nil {
		d.roles = a
		seen := map[string]bool{}
		list, ok := l.strings(a, func(s string, rng hcl.Range) bool {
			if !slices.Contains(roles, s) {
				l.errorf(rng, &a.Range, "Invalid role",
					"A role is one of %s, not %q.%s", quoteList(roles), s, didYouMean(s, roles))
				return false
			}
			if seen[s] {
				l.errorf(rng, &a.Range, "Duplicate role", "The role %q is listed twice.", s)
				return false
			}
			seen[s] = true
			return true
		})
		if ok {
			h.Roles = make([]Role, len(list))
			for i, s := range list {
				h.Roles[i] = Role(s)
			}
		}
	}

	h.Member = h.Name
	if a := at["member"]; a != nil {
		d.member = a
		if s, ok := l.str(a); ok {
			if s == "" {
				l.errorf(a.Expr.Range(), &a.Range, "Invalid member name", "The load balancer member name must not be empty.")
			} else {
				h.Member = s
			}
		}
	}

	h.Vars = Values{}
	if a := at["vars"]; a != nil {
		if v, ok := l.value(a, cty.DynamicPseudoType); ok {
			if ty := v.Type(); !ty.IsObjectType() && !ty.IsMapType() {
				l.errorf(a.Expr.Range(), &a.Range, "Incorrect attribute value type",
					"The argument \"vars\" must be an object, such as { site = \"lisbon\" }.")
			} else {
				for it := v.ElementIterator(); it.Next(); {
					k, e := it.Element()
					h.Vars[k.AsString()] = e
				}
			}
		}
	}

	h.SSH = cloneSSH(l.sshDefaults)
	h.WinRM = cloneWinRM(l.winrmDefaults)
	l.once(content.Blocks, "ssh", func(b *hcl.Block) { l.applySSH(&h.SSH, b) })
	l.once(content.Blocks, "winrm", func(b *hcl.Block) { l.applyWinRM(&h.WinRM, b) })
	finishSSH(&h.SSH)
	finishWinRM(&h.WinRM)

	l.inv.Hosts = append(l.inv.Hosts, h)
}

// zoneHosts builds Inventory.Zones: the declared zones in order, then the
// implicit default zone if a host is in it.
func (l *loader) zoneHosts() {
	for _, d := range l.hostOrder {
		name := d.host.Zone
		z := l.zones[name]
		if z == nil {
			z = &zoneDecl{zone: &Zone{Name: name}}
			l.zones[name] = z
			l.zoneOrder = append(l.zoneOrder, z)
		}
		z.zone.Hosts = append(z.zone.Hosts, d.host)
	}
	for _, z := range l.zoneOrder {
		l.inv.Zones = append(l.inv.Zones, z.zone)
	}
}

// zoneEndpoints gives each zone its load balancer and Service Center:
// the one it names, else the only one declared.
func (l *loader) zoneEndpoints() {
	for _, z := range l.zoneOrder {
		var fe []string
		for _, h := range z.zone.Hosts {
			if h.IsFrontend() {
				fe = append(fe, h.Name)
			}
		}
		l.zoneEndpoint(z, &z.zone.LoadBalancer, "load_balancer", l.lbNames, len(fe) > 0)
		l.zoneEndpoint(z, &z.zone.ServiceCenter, "service_center", l.scNames, len(z.zone.Hosts) > 0)
	}
}

func (l *loader) zoneEndpoint(z *zoneDecl, dst *string, kind string, names []string, needed bool) {
	if *dst != "" || len(names) == 0 {
		return
	}
	if len(names) == 1 {
		*dst = names[0]
		return
	}
	if !needed {
		return
	}
	noun := kindNoun[kind]
	subject := l.zoneSubject(z)
	l.errorf(subject, nil, "Missing "+noun,
		"This inventory declares several %ss (%s), so zone %q must choose one with %s = %s.%s.",
		noun, strings.Join(names, ", "), z.zone.Name, kind, kind, names[0])
}

// zoneSubject is where a problem with a zone is reported: its block, or
// for the implicit default zone, its first host.
func (l *loader) zoneSubject(z *zoneDecl) hcl.Range {
	if z.block != nil {
		return z.block.DefRange
	}
	return z.zone.Hosts[0].DeclRange
}

// controller checks that exactly one host runs the Deployment Controller.
func (l *loader) controller() {
	var first *hostDecl
	for _, d := range l.hostOrder {
		if !d.host.HasRole(RoleController) {
			continue
		}
		if first == nil {
			first = d
			continue
		}
		l.errorf(d.roles.Expr.Range(), &d.roles.Range, "Multiple controllers",
			"Host %q is already the controller (%s). A farm has exactly one Deployment Controller, and it must be upgraded first.",
			first.host.Name, first.block.DefRange)
	}
	if first == nil {
		d := l.hostOrder[0]
		l.errorf(d.block.DefRange, nil, "Missing controller",
			"No host has the role \"controller\". Add it to the host that runs the Deployment Controller Service: roles = [\"controller\", \"frontend\"].")
	}
}

// members checks that no two front-ends behind one load balancer share a
// member name, since draining one would drain the other.
func (l *loader) members() {
	seen := map[[2]string]*hostDecl{}
	for _, d := range l.hostOrder {
		h := d.host
		if !h.IsFrontend() {
			continue
		}
		lb := l.zones[h.Zone].zone.LoadBalancer
		if lb == "" {
			continue
		}
		key := [2]string{lb, h.Member}
		if first, dup := seen[key]; dup {
			subject := d.block.DefRange
			if d.member != nil {
				subject = d.member.Expr.Range()
			}
			l.errorf(subject, &d.block.DefRange, "Duplicate member name",
				"Host %q and host %q are both member %q of load balancer %q; set member to the name the load balancer knows each by.",
				first.host.Name, h.Name, h.Member, lb)
			continue
		}
		seen[key] = d
	}
}

func (l *loader) builtinGroups() {
	all := &Group{Name: GroupAll, Builtin: true}
	ctl := &Group{Name: GroupController, Builtin: true}
	fe := &Group{Name: GroupFrontends, Builtin: true}
	for _, h := range l.inv.Hosts {
		all.Hosts = append(all.Hosts, h)
		if h.HasRole(RoleController) {
			ctl.Hosts = append(ctl.Hosts, h)
		}
		if h.IsFrontend() {
			fe.Hosts = append(fe.Hosts, h)
		}
	}
	for _, g := range []*Group{all, ctl, fe} {
		l.inv.Groups[g.Name] = g
	}
}

// splitGroups publishes the split as the updating and loaded groups.
func (l *loader) splitGroups() {
	l.inv.Groups[GroupUpdating] = &Group{Name: GroupUpdating, Builtin: true, Hosts: l.inv.Split.Updating}
	l.inv.Groups[GroupLoaded] = &Group{Name: GroupLoaded, Builtin: true, Hosts: l.inv.Split.Loaded}
}

// ordered returns the hosts of set in inventory declaration order.
func (l *loader) ordered(set map[*Host]bool) []*Host {
	var out []*Host
	for _, h := range l.inv.Hosts {
		if set[h] {
			out = append(out, h)
		}
	}
	return out
}

func hostNames(hosts []*Host) string {
	names := make([]string, len(hosts))
	for i, h := range hosts {
		names[i] = h.Name
	}
	return strings.Join(names, ", ")
}
