package installer_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/osrun/osrun/modules/installer"
	"github.com/osrun/osrun/transports/local"
)

func TestReadInstalled(t *testing.T) {
	tests := []struct {
		name    string
		version string // version.txt's content; "" for no file
		pending string // the marker's content; "" for no marker
		want    installer.Installed
	}{
		{name: "installed", version: "11.29.1.40000\n", want: installer.Installed{Version: "11.29.1.40000", Raw: "11.29.1.40000"}},
		{name: "pending configuration", version: "11.31.0\n", pending: "11.31.0\n",
			want: installer.Installed{Version: "11.31.0", Raw: "11.31.0", Pending: "11.31.0"}},
		{name: "nothing installed", want: installer.Installed{}},
		{name: "no version in the file", version: "unknown\n", want: installer.Installed{Raw: "unknown"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home, staging := t.TempDir(), t.TempDir()
			if tt.version != "" {
				if err := os.WriteFile(filepath.Join(home, "version.txt"), []byte(tt.version), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if tt.pending != "" {
				if err := os.WriteFile(filepath.Join(staging, "pending-configuration"), []byte(tt.pending), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := installer.ReadInstalled(t.Context(), local.New(), installer.Where{InstallDir: home, StagingDir: staging})
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("ReadInstalled = %+v, want %+v", got, tt.want)
			}
		})
	}
}
