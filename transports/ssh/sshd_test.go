package ssh

import (
	"testing"

	"github.com/osrun/osrun/transports/ssh/sshdtest"
)

type sshdConfig = sshdtest.Config

// sshd wraps sshdtest.Server with the fixture helper.
type sshd struct {
	*sshdtest.Server
	addr    string
	dir     string
	keyFile string
}

func startSSHD(t *testing.T, cfg sshdConfig) *sshd {
	t.Helper()
	s := sshdtest.Start(t, cfg)
	return &sshd{Server: s, addr: s.Addr, dir: s.Dir, keyFile: s.KeyFile}
}

func (d *sshd) logText() string { return d.Log() }

func (d *sshd) fixture(t *testing.T, name string) fixture {
	return hostFor(t, d.dir, name, d.addr, d.HostKey, d.keyFile, d.User)
}
