package inventory

import (
	"slices"

	"github.com/hashicorp/hcl/v2"
)

// Connection settings are merged field by field: a host's ssh or winrm
// block is applied over a copy of the defaults, and only the arguments it
// sets replace inherited values (lists, and the jump chain, replace
// whole). Built-in defaults are filled last by finish*.

var sshSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "user"}, {Name: "port"}, {Name: "password"}, {Name: "private_key"},
		{Name: "passphrase"}, {Name: "use_agent"}, {Name: "known_hosts"},
		{Name: "host_key_checking"}, {Name: "host_key"}, {Name: "become"},
		{Name: "become_password"}, {Name: "dial_timeout"}, {Name: "command_timeout"},
		{Name: "keepalive"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "jump"}},
}

var jumpSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "address", Required: true}, {Name: "port"}, {Name: "user"},
		{Name: "password"}, {Name: "private_key"}, {Name: "passphrase"},
		{Name: "host_key"}, {Name: "host_key_checking"},
	},
}

var winrmSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "user"}, {Name: "password"}, {Name: "port"}, {Name: "https"},
		{Name: "insecure"}, {Name: "ca_file"}, {Name: "auth"}, {Name: "client_cert"},
		{Name: "client_key"}, {Name: "operation_timeout"}, {Name: "timeout"},
		{Name: "command_timeout"},
	},
}

var hostKeyCheckings = []string{"strict", "accept-new", "off"}

var winrmAuths = []string{"ntlm", "basic", "certificate", "kerberos"}

func cloneSSH(s SSHSettings) SSHSettings {
	s.KnownHosts = slices.Clone(s.KnownHosts)
	s.Jump = slices.Clone(s.Jump)
	if s.UseAgent != nil {
		b := *s.UseAgent
		s.UseAgent = &b
	}
	return s
}

func cloneWinRM(s WinRMSettings) WinRMSettings {
	if s.HTTPS != nil {
		b := *s.HTTPS
		s.HTTPS = &b
	}
	return s
}

// applySSH sets on dst the arguments present in an ssh block.
func (l *loader) applySSH(dst *SSHSettings, block *hcl.Block) {
	content, diags := block.Body.Content(sshSchema)
	l.diags = l.diags.Extend(diags)
	at := content.Attributes
	set(at["user"], l.str, &dst.User)
	set(at["port"], l.port, &dst.Port)
	set(at["password"], l.secretValue, &dst.Password)
	set(at["private_key"], l.path, &dst.PrivateKey)
	set(at["passphrase"], l.secretValue, &dst.Passphrase)
	if a := at["use_agent"]; a != nil {
		if b, ok := l.boolean(a); ok {
			dst.UseAgent = &b
		}
	}
	if a := at["known_hosts"]; a != nil {
		if paths, ok := l.strings(a, nil); ok {
			for i := range paths {
				paths[i] = expandPath(l.baseDir, paths[i])
			}
			dst.KnownHosts = paths
		}
	}
	set(at["host_key_checking"], l.hostKeyChecking, &dst.HostKeyChecking)
	set(at["host_key"], l.str, &dst.HostKey)
	set(at["become"], l.boolean, &dst.Become)
	set(at["become_password"], l.secretValue, &dst.BecomePassword)
	set(at["dial_timeout"], l.duration, &dst.DialTimeout)
	set(at["command_timeout"], l.duration, &dst.CommandTimeout)
	set(at["keepalive"], l.duration, &dst.Keepalive)

	var jumps []JumpHost
	for _, b := range content.Blocks {
		jumps = append(jumps, l.jump(b))
	}
	if len(jumps) > 0 {
		dst.Jump = jumps
	}
}

func (l *loader) jump(block *hcl.Block) JumpHost {
	var j JumpHost
	content, diags := block.Body.Content(jumpSchema)
	l.diags = l.diags.Extend(diags)
	at := content.Attributes
	set(at["address"], l.str, &j.Address)
	set(at["port"], l.port, &j.Port)
	set(at["user"], l.str, &j.User)
	set(at["password"], l.secretValue, &j.Password)
	set(at["private_key"], l.path, &j.PrivateKey)
	set(at["passphrase"], l.secretValue, &j.Passphrase)
	set(at["host_key"], l.str, &j.HostKey)
	set(at["host_key_checking"], l.hostKeyChecking, &j.HostKeyChecking)
	return j
}

// applyWinRM sets on dst the arguments present in a winrm block.
func (l *loader) applyWinRM(dst *WinRMSettings, block *hcl.Block) {
	content, diags := block.Body.Content(winrmSchema)
	l.diags = l.diags.Extend(diags)
	at := content.Attributes
	set(at["user"], l.str, &dst.User)
	set(at["password"], l.secretValue, &dst.Password)
	set(at["port"], l.port, &dst.Port)
	if a := at["https"]; a != nil {
		if b, ok := l.boolean(a); ok {
			dst.HTTPS = &b
		}
	}
	set(at["insecure"], l.boolean, &dst.Insecure)
	set(at["ca_file"], l.path, &dst.CAFile)
	set(at["auth"], func(a *hcl.Attribute) (string, bool) {
		return l.enum(a, "Invalid WinRM authentication", winrmAuths...)
	}, &dst.Auth)
	set(at["client_cert"], l.path, &dst.ClientCert)
	set(at["client_key"], l.path, &dst.ClientKey)
	set(at["operation_timeout"], l.duration, &dst.OperationTimeout)
	set(at["timeout"], l.duration, &dst.Timeout)
	set(at["command_timeout"], l.duration, &dst.CommandTimeout)

	// The WS-Man operation timeout must expire first, or the HTTP client
	// gives up on a request the server still considers alive.
	if op, to := at["operation_timeout"], at["timeout"]; op != nil && to != nil &&
		dst.OperationTimeout > 0 && dst.Timeout > 0 && dst.OperationTimeout >= dst.Timeout {
		l.errorf(op.Expr.Range(), &op.Range, "Invalid duration",
			"operation_timeout (%s) must be shorter than timeout (%s), so the server ends a WS-Man operation before the HTTP client gives up on it.",
			dst.OperationTimeout, dst.Timeout)
	}
}

func (l *loader) hostKeyChecking(a *hcl.Attribute) (string, bool) {
	return l.enum(a, "Invalid host key checking", hostKeyCheckings...)
}

// finishSSH fills the built-in defaults, so the settings a host ends with
// are the ones shown by `osrun inventory`.
func finishSSH(s *SSHSettings) {
	if s.Port == 0 {
		s.Port = 22
	}
	if s.HostKeyChecking == "" {
		s.HostKeyChecking = "strict"
	}
	for i := range s.Jump {
		j := &s.Jump[i]
		if j.Port == 0 {
			j.Port = 22
		}
		if j.HostKeyChecking == "" {
			j.HostKeyChecking = s.HostKeyChecking
		}
		if j.User == "" {
			j.User = s.User
		}
	}
}

func finishWinRM(s *WinRMSettings) {
	if s.HTTPS == nil {
		https := true
		s.HTTPS = &https
	}
	if s.Port == 0 {
		s.Port = 5986
		if !*s.HTTPS {
			s.Port = 5985
		}
	}
	if s.Auth == "" {
		s.Auth = "ntlm"
	}
}

// set stores the decoded value of a present attribute into dst, leaving
// dst alone when the attribute is absent or wrong.
func set[T any](a *hcl.Attribute, decode func(*hcl.Attribute) (T, bool), dst *T) {
	if a == nil {
		return
	}
	if v, ok := decode(a); ok {
		*dst = v
	}
}
