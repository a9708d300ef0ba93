package installer

import (
	"context"
	"fmt"

	"github.com/osrun/osrun/transports"
)

// What other packages (preflight, resume) need to read a host's Platform
// Server without building a task: the same scripts the module's Check
// runs, so the two can never disagree about a host's version.

// Installed is what a host reports about its Platform Server.
type Installed struct {
	// Version is the installed version, normalised ("11.31.0.45003"); ""
	// when no Platform Server is installed or Raw holds no version.
	Version string `json:"version,omitempty"`
	// Raw is what the host reported (the registry value, version.txt's
	// first line); "" when nothing is installed.
	Raw string `json:"raw,omitempty"`
	// InstallDir is the registry's install directory (.NET only).
	InstallDir string `json:"install_dir,omitempty"`
	// Pending is the version whose Configuration Tool osrun left
	// unfinished on this host, "" when none.
	Pending string `json:"pending,omitempty"`
}

// Where says where ReadInstalled looks; zero values take the module's
// defaults, as the task arguments of the same names do.
type Where struct {
	InstallDir string // install_dir
	StagingDir string // staging_dir, where the pending-configuration marker is
}

// ReadInstalled reads the installed Platform Server on the host behind c,
// choosing the stack by c.Shell() as the module does. It changes nothing.
func ReadInstalled(ctx context.Context, c transports.Conn, w Where) (Installed, error) {
	a := &action{installDir: w.InstallDir, staging: w.StagingDir, files: &fileCache{}}
	re := runEnv{a: a, c: c, progress: func(string) {}}
	var d driver
	var err error
	switch c.Shell() {
	case "powershell":
		d, err = newDotNet(re)
	case "sh":
		d, err = newJ2EE(re)
	default:
		err = fmt.Errorf("unsupported shell %q", c.Shell())
	}
	if err != nil {
		return Installed{}, fmt.Errorf("read the installed version: %w", err)
	}
	st, err := d.state(ctx)
	if err != nil {
		return Installed{}, err
	}
	out := Installed{Raw: st.raw, InstallDir: st.installDir, Pending: st.pending}
	if st.version != nil {
		out.Version = st.version.String()
	}
	return out, nil
}
