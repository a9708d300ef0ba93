package installer

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/inventory/secret"
	"github.com/osrun/osrun/modules"
	"github.com/osrun/osrun/modules/hostscript"
	"github.com/osrun/osrun/transports"
)

//go:embed scripts
var scriptFS embed.FS

var scripts = hostscript.MustParse(scriptFS, "scripts/*")

// Options tune the module for its caller.
type Options struct {
	// LogLines is how many lines of a log an error carries; 40 when zero.
	LogLines int
	// DefaultTimeout bounds a task whose context has no deadline (the task
	// set no timeout meta-argument); 60m when zero.
	DefaultTimeout time.Duration
}

// Definition returns the installer module.
func Definition(opts Options) *modules.Definition {
	if opts.LogLines <= 0 {
		opts.LogLines = 40
	}
	if opts.DefaultTimeout <= 0 {
		opts.DefaultTimeout = 60 * time.Minute
	}
	return &modules.Definition{
		Name:    "installer",
		Summary: "Upgrade the host's Platform Server to a version and run the Configuration Tool.",
		Doc: `Reads the installed version (Windows: registry HKLM\SOFTWARE\OutSystems\Installer\Server,
value Server; J2EE: $OUTSYSTEMS_HOME/version.txt) and does nothing when it already matches
(11.31.0 matches an installed 11.31.0.45003); refuses a downgrade.

.NET: the installer is uploaded from source (skipped when the host already has it) or
copied by the host from remote_path (a UNC path or https URL; sha256 required), verified,
and run as "PlatformServer-<version>.exe /S". Over WinRM with NTLM the host reads a UNC
path as its own computer account (credentials do not hop a second time): grant the share
to DOMAIN\HOST$ or use https. Uploading over WinRM is slow for a large installer. Exit code 0 is success, 1/3010/3011 mean a
reboot is needed (an error unless allow_reboot_pending), anything else a failure. Then
"ConfigurationTool.com /UpgradeInstall" runs from the install directory; on the controller
it adds /UpgradeEnvironment and, when admin_password is given, /SetPlatformServerAdminPassword
(the password travels on stdin, never in the script).

J2EE: the packages are uploaded and upgraded with "rpm -Uvh", or yum_packages are updated
from the host's yum repositories ("yum -y update"), or the script is uploaded and run with
sh (OSRUN_VERSION set), as root; then "configurationtool.sh /silent /upgradeinstall"
(plus /scinstall on the controller).

On failure the error carries the tail of the command output and of the installer log or
ConfigurationTool.log. A marker in staging_dir records that configuration is pending, so
a run that failed after the installer resumes with the Configuration Tool. While the
installer runs, a file in staging_dir holds its process id: a run that died or lost its
connection meanwhile is resumed by waiting for that installer, never by starting another
(on J2EE the installer's output goes to a file, shown when it ends, so a lost connection
does not stop it). The task's
timeout meta-argument (60m when not set) bounds the whole task, upload included.`,
		Params: []modules.Param{
			{Name: "version", Type: cty.String, Required: true, Doc: "Target Platform Server version, e.g. 11.31.0."},
			{Name: "source", Type: cty.String, Doc: ".NET: installer file on the control machine, uploaded to the host."},
			{Name: "remote_path", Type: cty.String, Doc: ".NET: installer as a UNC path or https URL the host reads itself."},
			{Name: "sha256", Type: cty.String, Doc: "Expected SHA-256 (hex) of source, remote_path or script. Required with remote_path."},
			{Name: "install_dir", Type: cty.String, Doc: "Platform Server directory. .NET: from the registry, else C:\\Program Files\\OutSystems\\Platform Server; J2EE: OUTSYSTEMS_HOME, /opt/outsystems/platform."},
			{Name: "staging_dir", Type: cty.String, Doc: "Where installers are placed on the host. Default C:\\ProgramData\\osrun\\installer or /var/tmp/osrun."},
			{Name: "admin_password", Type: cty.String, Secret: true, Doc: ".NET controller only: sets the Platform Server admin password (/SetPlatformServerAdminPassword)."},
			{Name: "allow_reboot_pending", Type: cty.Bool, Default: cty.False, Doc: "Carry on (and report it) when the installer says a reboot is needed."},
			{Name: "packages", Type: cty.List(cty.String), Doc: "J2EE: rpm files on the control machine, uploaded and upgraded with rpm -Uvh."},
			{Name: "yum_packages", Type: cty.List(cty.String), Doc: "J2EE: package names or globs (outsystems-agileplatform*) updated with yum -y update from the host's repositories."},
			{Name: "script", Type: cty.String, Doc: "J2EE: installer script on the control machine, uploaded and run with sh as root."},
		},
		DefaultOn: modules.OnHost,
		// The installer stops the platform's services and IIS or the
		// application server while it runs.
		Effects: func(modules.Args) modules.Effect {
			return modules.Effect{Disruptive: true, Upgrades: true}
		},
		Example: `task "installer" "platform" {
  version        = "11.31.0"
  remote_path    = "\\\\fileserver\\outsystems\\PlatformServer-11.31.0.exe"
  sha256         = "3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b"
  admin_password = env("OS_ADMIN_PASSWORD") # used on the controller only
  timeout        = "90m"
}`,
		New: func(args modules.Args) (modules.Action, error) { return newAction(args, opts) },
	}
}

var hexSHA256 = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)

func newAction(args modules.Args, opts Options) (*action, error) {
	a := &action{
		targetText:  args.String("version"),
		source:      args.String("source"),
		remotePath:  args.String("remote_path"),
		sha256:      strings.ToLower(args.String("sha256")),
		installDir:  args.String("install_dir"),
		staging:     args.String("staging_dir"),
		password:    args.Secret("admin_password"),
		allowReboot: args.Bool("allow_reboot_pending"),
		packages:    args.StringList("packages"),
		yum:         args.StringList("yum_packages"),
		script:      args.String("script"),
		logLines:    opts.LogLines,
		timeout:     opts.DefaultTimeout,
		files:       &fileCache{},
	}
	var err error
	if a.target, err = parseTarget(a.targetText); err != nil {
		return nil, err
	}
	given := 0
	for _, s := range []bool{a.source != "", a.remotePath != "", len(a.packages) > 0, len(a.yum) > 0, a.script != ""} {
		if s {
			given++
		}
	}
	switch {
	case given == 0:
		return nil, errors.New("give the installer: source or remote_path (.NET), packages, yum_packages or script (J2EE)")
	case given > 1:
		return nil, errors.New("give only one of source, remote_path, packages, yum_packages and script")
	case a.sha256 != "" && !hexSHA256.MatchString(a.sha256):
		return nil, errors.New("argument sha256: not 64 hex digits")
	case a.remotePath != "" && a.sha256 == "":
		return nil, errors.New("argument sha256 is required with remote_path, so the host can verify what it read")
	case a.sha256 != "" && len(a.packages) > 0:
		return nil, errors.New("argument sha256 does not apply to packages (each is verified on upload)")
	case a.sha256 != "" && len(a.yum) > 0:
		return nil, errors.New("argument sha256 does not apply to yum_packages (yum verifies signatures)")
	}
	return a, nil
}

type action struct {
	target      version
	targetText  string
	source      string
	remotePath  string
	sha256      string
	installDir  string
	staging     string
	password    secret.Value
	allowReboot bool
	timeout     time.Duration // when the context has no deadline
	packages    []string
	yum         []string
	script      string
	logLines    int
	files       *fileCache
}

// conn is what the module needs of a transports.Conn.
type conn interface {
	hostscript.Runner
	Upload(ctx context.Context, u transports.Upload) error
}

// installed is what a host reports about its Platform Server.
type installed struct {
	version    version
	raw        string
	installDir string // .NET only: the registry's (Default) value
	pending    string // version whose configuration osrun left unfinished
	// running is the process id of an installer an earlier run started
	// that is still running (the run lost its connection or died).
	running string
}

// driver does the stack-specific steps.
type driver interface {
	state(ctx context.Context) (installed, error)
	// plan describes the steps of an upgrade, for check mode; it fails on
	// arguments this stack cannot use or local files that are missing.
	plan(st installed) ([]string, error)
	stage(ctx context.Context) error
	// install runs the installer; reboot is the installer's exit code when
	// it says a reboot is needed, 0 otherwise.
	install(ctx context.Context) (reboot int, err error)
	configure(ctx context.Context, st installed) error
	configureSteps(st installed) string
	// say reports progress.
	say(msg string)
}

// runEnv is what the drivers share for one host.
type runEnv struct {
	a          *action
	c          conn
	controller bool
	progress   func(string)
}

func (re runEnv) say(msg string) { re.progress(msg) }

func (a *action) driver(env *modules.Env) (driver, error) {
	if env.Conn == nil {
		return nil, errors.New("installer runs on the host: no connection")
	}
	re := runEnv{a: a, c: env.Conn, progress: env.Progress}
	if re.progress == nil {
		re.progress = func(string) {}
	}
	if env.Host != nil {
		re.controller = env.Host.HasRole(inventory.RoleController)
	}
	switch env.Conn.Shell() {
	case "powershell":
		return newDotNet(re)
	case "sh":
		return newJ2EE(re)
	}
	return nil, fmt.Errorf("installer: unsupported shell %q", env.Conn.Shell())
}

// step is what an Apply would do.
type step int

const (
	nothing   step = iota
	configure      // the installer ran before; its configuration did not finish
	upgrade
)

func (a *action) decide(st installed) (step, error) {
	if st.version == nil {
		if st.raw != "" {
			return nothing, fmt.Errorf("cannot read the installed version from %q", st.raw)
		}
		return nothing, errors.New("no Platform Server is installed; this module only upgrades")
	}
	switch compareAt(st.version, a.target) {
	case 1:
		return nothing, fmt.Errorf("refusing to downgrade Platform Server %s → %s", st.version, a.targetText)
	case 0:
		if p := parseInstalled(st.pending); p != nil && compareAt(p, a.target) == 0 {
			return configure, nil
		}
		return nothing, nil
	}
	return upgrade, nil
}

// versions is the task's output; Apply sets reboot_pending when the
// installer asked for a reboot.
func versions(before, after string) map[string]cty.Value {
	return map[string]cty.Value{
		"version_before": cty.StringVal(before),
		"version_after":  cty.StringVal(after),
		"reboot_pending": cty.False,
	}
}

func (a *action) Check(ctx context.Context, env *modules.Env) (modules.Result, error) {
	d, err := a.driver(env)
	if err != nil {
		return modules.Result{}, err
	}
	st, err := d.state(ctx)
	if err != nil {
		return modules.Result{}, err
	}
	if st.running != "" {
		return modules.Result{
			Changed: true,
			Msg:     fmt.Sprintf("an installer started by an earlier run is still running (process %s): would wait for it, then finish the upgrade", st.running),
			Output:  versions(st.version.String(), a.targetText),
		}, nil
	}
	s, err := a.decide(st)
	if err != nil {
		return modules.Result{}, err
	}
	before := st.version.String()
	switch s {
	case configure:
		return modules.Result{
			Changed: true,
			Msg:     fmt.Sprintf("would run the Configuration Tool: %s is installed but its configuration did not finish", before),
			Diff:    "- " + d.configureSteps(st) + "\n",
			Output:  versions(before, before),
		}, nil
	case upgrade:
		steps, err := d.plan(st)
		if err != nil {
			return modules.Result{}, err
		}
		return modules.Result{
			Changed: true,
			Msg:     fmt.Sprintf("would upgrade %s → %s", before, a.targetText),
			Diff:    "- " + strings.Join(steps, "\n- ") + "\n",
			Output:  versions(before, a.targetText),
		}, nil
	}
	return modules.Result{
		Msg:    fmt.Sprintf("Platform Server %s is installed", before),
		Output: versions(before, before),
	}, nil
}

func (a *action) Apply(ctx context.Context, env *modules.Env) (modules.Result, error) {
	d, err := a.driver(env)
	if err != nil {
		return modules.Result{}, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, a.timeout)
		defer cancel()
	}
	begin := time.Now()
	explain := func(what string, err error) error {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("%s: timed out after %s; the host may still be working: %w", what, time.Since(begin).Round(time.Second), ctx.Err())
		}
		if what == "read the installed version" { // the driver says so already
			return err
		}
		return fmt.Errorf("%s: %w", what, err)
	}

	st, err := d.state(ctx)
	if err != nil {
		return modules.Result{}, explain("read the installed version", err)
	}
	if st, err = a.awaitRunning(ctx, d, st); err != nil {
		return modules.Result{}, explain("wait for the installer an earlier run started", err)
	}
	s, err := a.decide(st)
	if err != nil {
		return modules.Result{}, err
	}
	before := st.version.String()
	if s == nothing {
		return modules.Result{Msg: fmt.Sprintf("Platform Server %s is installed", before), Output: versions(before, before)}, nil
	}
	reboot := 0
	if s == upgrade {
		if _, err := d.plan(st); err != nil {
			return modules.Result{}, err
		}
		if err := d.stage(ctx); err != nil {
			return modules.Result{}, explain("stage the installer", err)
		}
		if reboot, err = d.install(ctx); err != nil {
			return modules.Result{}, explain("run the installer", err)
		}
		// A reboot request can mean the prerequisites are done and the
		// platform is not: configuring the old version would be wrong.
		if reboot != 0 {
			mid, err := d.state(ctx)
			if err != nil {
				return modules.Result{}, explain("read the installed version", err)
			}
			if mid.version == nil || compareAt(mid.version, a.target) != 0 {
				return modules.Result{}, fmt.Errorf("the installer asked for a reboot (exit %d) and Platform Server is still %s: reboot the host and run again", reboot, mid.version)
			}
		}
	}
	if err := d.configure(ctx, st); err != nil {
		return modules.Result{}, explain("run the Configuration Tool", err)
	}
	after, err := d.state(ctx)
	if err != nil {
		return modules.Result{}, explain("read the installed version", err)
	}
	if after.version == nil || compareAt(after.version, a.target) != 0 {
		return modules.Result{}, fmt.Errorf("the installer and Configuration Tool succeeded but the host reports version %q, not %s", after.raw, a.targetText)
	}
	res := modules.Result{Changed: true, Output: versions(before, after.version.String())}
	if s == upgrade {
		res.Msg = fmt.Sprintf("upgraded %s → %s", before, after.version)
	} else {
		res.Msg = fmt.Sprintf("finished the configuration of %s", after.version)
	}
	res.Output["reboot_pending"] = cty.BoolVal(reboot != 0)
	if reboot != 0 {
		res.Msg += fmt.Sprintf("; the installer asked for a reboot (exit %d)", reboot)
	}
	return res, nil
}

// runningPoll is how often Apply looks again at an installer an earlier
// run left running.
const runningPoll = time.Second

// awaitRunning waits, within ctx (Apply's timeout bounds it), until no
// installer an earlier run started is running any more, and returns the
// host's state then: a run that died or lost its connection while the
// installer ran is resumed by waiting for that installer, never by
// starting a second one.
func (a *action) awaitRunning(ctx context.Context, d driver, st installed) (installed, error) {
	if st.running == "" {
		return st, nil
	}
	d.say(fmt.Sprintf("an installer started by an earlier run is still running (process %s): waiting for it", st.running))
	t := time.NewTicker(runningPoll)
	defer t.Stop()
	for st.running != "" {
		select {
		case <-ctx.Done():
			return st, fmt.Errorf("process %s still running: %w", st.running, ctx.Err())
		case <-t.C:
		}
		var err error
		if st, err = d.state(ctx); err != nil {
			return st, err
		}
	}
	return st, nil
}

// logTail fetches the tail of a log after a failure. It runs even when
// the task's own timeout has expired, bounded by a short one of its own;
// if it fails, the error says so in place of the log.
func (re runEnv) logTail(ctx context.Context, tmpl string, data map[string]any) []string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	data["Lines"] = re.a.logLines
	text, err := scripts.Render(tmpl, data)
	if err != nil {
		return []string{"(no log: " + err.Error() + ")"}
	}
	out, err := hostscript.Exec(ctx, re.c, hostscript.Script{Text: text, TailLines: re.a.logLines + 1})
	if err != nil {
		return []string{"(could not read the log: " + err.Error() + ")"}
	}
	return out.Tail()
}

// exec renders and runs one script, streaming its output as progress.
func (re runEnv) exec(ctx context.Context, tmpl string, data any, s hostscript.Script) (*hostscript.Output, error) {
	text, err := scripts.Render(tmpl, data)
	if err != nil {
		return nil, err
	}
	s.Text = text
	if s.TailLines == 0 {
		s.TailLines = 20
	}
	return hostscript.Exec(ctx, re.c, s)
}
