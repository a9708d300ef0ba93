package inventory

import (
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/osrun/osrun/inventory/secret"
)

// Stack is the OutSystems Platform Server flavour a host runs.
type Stack string

const (
	StackDotNet Stack = "dotnet" // Windows + IIS, reached over WinRM
	StackJ2EE   Stack = "j2ee"   // Linux + JBoss/WildFly/WebLogic, reached over SSH
)

// Role is what a host does in the farm.
type Role string

const (
	RoleController Role = "controller" // runs the Deployment Controller Service
	RoleFrontend   Role = "frontend"   // serves applications behind the load balancer
)

// DefaultZone is the zone of hosts that name none (OutSystems calls it "Global").
const DefaultZone = "default"

// Inventory is a loaded, validated farm description. Hosts keep their
// declaration order everywhere (Hosts, groups, the split), so plans and
// recaps are deterministic.
type Inventory struct {
	Hosts          []*Host
	Zones          []*Zone
	Groups         map[string]*Group // user groups plus the built-in ones
	LoadBalancers  map[string]*Endpoint
	ServiceCenters map[string]*Endpoint
	// Split is the balanced split, declared or computed.
	Split Split
}

// Host is one server of the farm.
type Host struct {
	Name    string
	Address string
	Stack   Stack
	Zone    string
	Roles   []Role
	// Member is the name the load balancer knows this host by (defaults to Name).
	Member string
	// Transport is "ssh", "winrm" or "local"; by default ssh for j2ee and
	// winrm for dotnet.
	Transport string
	SSH       SSHSettings
	WinRM     WinRMSettings
	Vars      Values
	DeclRange hcl.Range
}

// HasRole reports whether h has role r.
func (h *Host) HasRole(r Role) bool {
	for _, x := range h.Roles {
		if x == r {
			return true
		}
	}
	return false
}

// IsFrontend reports whether the host serves traffic behind the load balancer.
func (h *Host) IsFrontend() bool { return h.HasRole(RoleFrontend) }

// Zone groups front-ends that serve the same applications; the balanced
// split is made per zone.
type Zone struct {
	Name          string
	LoadBalancer  string // key into Inventory.LoadBalancers, "" if none
	ServiceCenter string // key into Inventory.ServiceCenters, "" if none
	Hosts         []*Host
}

// Group is a named, ordered, duplicate-free set of hosts.
type Group struct {
	Name      string
	Hosts     []*Host
	Builtin   bool
	DeclRange hcl.Range
}

// Endpoint is a load balancer or Service Center: a driver name and the
// driver's own settings, which the driver decodes. Secret settings arrive
// as cty values marked with secret.Mark.
type Endpoint struct {
	Name      string
	Driver    string
	Settings  Values
	DeclRange hcl.Range
}

// Split is the balanced split of the front-ends.
type Split struct {
	Updating []*Host // always includes the controller
	Loaded   []*Host
	Declared bool // true when the inventory declared it, false when computed
}

// SSHSettings connect to a J2EE host. Zero values mean "inherit the default".
type SSHSettings struct {
	Port       int
	User       string
	Password   secret.Value
	PrivateKey string // path to a private key file
	Passphrase secret.Value
	UseAgent   *bool // nil: use SSH_AUTH_SOCK when set
	KnownHosts []string
	// HostKeyChecking is "strict" (default), "accept-new" or "off".
	HostKeyChecking string
	// HostKey pins the host's public key (authorized_keys format).
	HostKey        string
	Jump           []JumpHost
	Become         bool
	BecomePassword secret.Value
	DialTimeout    time.Duration
	CommandTimeout time.Duration
	Keepalive      time.Duration
}

// JumpHost is one bastion hop, dialled in order before the target.
type JumpHost struct {
	Address         string
	Port            int
	User            string
	Password        secret.Value
	PrivateKey      string
	Passphrase      secret.Value
	HostKey         string
	HostKeyChecking string
}

// WinRMSettings connect to a .NET host.
type WinRMSettings struct {
	Port     int // 5986 with HTTPS (default), 5985 with plain HTTP
	HTTPS    *bool
	Insecure bool // skip certificate validation; warns on every run
	CAFile   string
	// Auth is "ntlm" (default), "basic", "certificate" or "kerberos".
	Auth             string
	User             string // DOMAIN\user or user@domain for NTLM
	Password         secret.Value
	ClientCert       string
	ClientKey        string
	OperationTimeout time.Duration // WS-Man OperationTimeout, below Timeout
	Timeout          time.Duration // HTTP timeout
	CommandTimeout   time.Duration
}
