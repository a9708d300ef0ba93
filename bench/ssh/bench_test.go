package sshbench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/pkg/sftp"

	"github.com/osrun/osrun/inventory"
	"github.com/osrun/osrun/transports"
	osrunssh "github.com/osrun/osrun/transports/ssh"
	"github.com/osrun/osrun/transports/ssh/sshdtest"
)

const (
	hosts    = 20
	commands = 20
)

var noAgent = new(bool)

// farm starts sshds (at most 10 ports each: sshd listens on 16 sockets at
// most) and returns one inventory host per port, with one known_hosts file.
// Logins use a fresh account whose shell is /bin/sh: the machine's root
// may have a heavy ~/.bashrc that would dominate every command's cost.
func farm(b *testing.B, n int) ([]*inventory.Host, string) {
	b.Helper()
	user := sshdtest.TempUser(b, "osrunbench")
	kh := filepath.Join(b.TempDir(), "known_hosts")
	var lines strings.Builder
	var hs []*inventory.Host
	for len(hs) < n {
		s := sshdtest.Start(b, sshdtest.Config{Ports: min(10, n-len(hs)), User: user})
		for _, a := range s.Addrs {
			lines.WriteString(knownhosts.Line([]string{knownhosts.Normalize(a)}, s.HostKey) + "\n")
			_, p, _ := net.SplitHostPort(a)
			port, _ := strconv.Atoi(p)
			hs = append(hs, &inventory.Host{
				Name: fmt.Sprintf("fe%02d", len(hs)+1), Address: "127.0.0.1",
				SSH: inventory.SSHSettings{Port: port, User: s.User, PrivateKey: s.KeyFile, KnownHosts: []string{kh}, UseAgent: noAgent},
			})
		}
	}
	if err := os.WriteFile(kh, []byte(lines.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	return hs, kh
}

// runOsrun dials every host at once and runs the commands in sequence on
// each, as the runner does.
func runOsrun(ctx context.Context, hs []*inventory.Host) error {
	var wg sync.WaitGroup
	errs := make(chan error, len(hs))
	for _, h := range hs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := osrunssh.Dial(ctx, h, osrunssh.Options{})
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			for i := 0; i < commands; i++ {
				if err := c.Run(ctx, &transports.Cmd{Command: "true"}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// ansibleProject writes an inventory, a playbook of trivial command tasks
// and an ansible.cfg with the settings the issue names.
func ansibleProject(b *testing.B, hs []*inventory.Host, kh, module string) string {
	dir := b.TempDir()
	var inv strings.Builder
	inv.WriteString("[farm]\n")
	for _, h := range hs {
		fmt.Fprintf(&inv, "%s ansible_host=127.0.0.1 ansible_port=%d ansible_user=%s ansible_ssh_private_key_file=%s\n",
			h.Name, h.SSH.Port, h.SSH.User, h.SSH.PrivateKey)
	}
	inv.WriteString("[farm:vars]\nansible_python_interpreter=/usr/bin/python3\n")
	var play strings.Builder
	play.WriteString("- hosts: farm\n  gather_facts: false\n  tasks:\n")
	for i := 0; i < commands; i++ {
		fmt.Fprintf(&play, "    - %s: /bin/true\n", module)
	}
	// The control path must be short: unix socket paths are limited.
	cp, err := os.MkdirTemp("", "cp")
	if err != nil {
		b.Fatal(err)
	}
	// Stop the ControlPersist masters when the run is over: they hold
	// sessions of the benchmark user, who cannot be deleted meanwhile.
	b.Cleanup(func() {
		socks, _ := filepath.Glob(filepath.Join(cp, "*"))
		for _, sock := range socks {
			exec.Command("ssh", "-o", "ControlPath="+sock, "-O", "exit", "127.0.0.1").Run()
		}
		os.RemoveAll(cp)
	})
	cfg := fmt.Sprintf(`[defaults]
forks = 20
host_key_checking = True
gathering = explicit
[ssh_connection]
pipelining = True
ssh_args = -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=%s -o IdentitiesOnly=yes
control_path = %s/%%%%h-%%%%p
`, kh, cp)
	for name, text := range map[string]string{"inventory.ini": inv.String(), "play.yml": play.String(), "ansible.cfg": cfg} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}

func runAnsible(dir string) error {
	cmd := exec.Command("ansible-playbook", "-i", "inventory.ini", "play.yml")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "ANSIBLE_CONFIG="+filepath.Join(dir, "ansible.cfg"), "ANSIBLE_NOCOLOR=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("ansible-playbook: %v\n%s", err, out)
	}
	return nil
}

// BenchmarkFarmVersusAnsible: 20 hosts x 20 trivial commands, osrun then
// ansible-playbook, on the same sshd, each iteration; the best run of each
// is reported.
func BenchmarkFarmVersusAnsible(b *testing.B) {
	if _, err := exec.LookPath("ansible-playbook"); err != nil {
		b.Skip("ansible-playbook not installed (apt-get install -y ansible-core)")
	}
	hs, kh := farm(b, hosts)
	for _, module := range []string{"ansible.builtin.command", "ansible.builtin.raw"} {
		b.Run(strings.TrimPrefix(module, "ansible.builtin."), func(b *testing.B) {
			var osrunTime, ansibleTime time.Duration = 1 << 62, 1 << 62
			for i := 0; i < b.N; i++ {
				dir := ansibleProject(b, hs, kh, module)
				start := time.Now()
				if err := runOsrun(b.Context(), hs); err != nil {
					b.Fatal(err)
				}
				osrunTime = min(osrunTime, time.Since(start))
				start = time.Now()
				if err := runAnsible(dir); err != nil {
					b.Fatal(err)
				}
				ansibleTime = min(ansibleTime, time.Since(start))
			}
			b.ReportMetric(osrunTime.Seconds(), "osrun-s")
			b.ReportMetric(ansibleTime.Seconds(), "ansible-s")
			b.ReportMetric(ansibleTime.Seconds()/osrunTime.Seconds(), "x-faster")
		})
	}
}

const uploadSize = 1 << 30

// sourceFile writes size bytes of incompressible data.
func sourceFile(b *testing.B, size int64) string {
	p := filepath.Join(b.TempDir(), "src.bin")
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	r := rand.NewChaCha8([32]byte{1})
	if _, err := io.CopyN(f, r, size); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return p
}

// peakHeap samples the heap in use until stop is closed.
func peakHeap(stop <-chan struct{}) <-chan uint64 {
	res := make(chan uint64, 1)
	go func() {
		var peak uint64
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapInuse)
			select {
			case <-stop:
				res <- peak
				return
			case <-t.C:
			}
		}
	}()
	return res
}

// BenchmarkUploadVersusScp reports the best of b.N runs of each: 1 GiB to a real sshd on loopback, with the
// transport's Upload (SFTP, then cat; both verify SHA-256 on both sides),
// a bare SFTP write over x/crypto without verification, and scp.
func BenchmarkUploadVersusScp(b *testing.B) {
	hs, kh := farm(b, 1)
	h := hs[0]
	src := sourceFile(b, uploadSize)
	dst := b.TempDir()
	os.Chmod(dst, 0o777) // written by the benchmark user
	// The machine may be shared: each method's best run is reported, and
	// the methods alternate, so a burst of load hits all of them alike.
	var osrunT, catT, sftpT, scpT time.Duration = 1 << 62, 1 << 62, 1 << 62, 1 << 62
	var heap uint64
	for i := 0; i < b.N; i++ {
		// osrun, over SFTP and then streaming into cat
		for _, noSFTP := range []bool{false, true} {
			c, err := osrunssh.Dial(b.Context(), h, osrunssh.Options{DisableSFTP: noSFTP})
			if err != nil {
				b.Fatal(err)
			}
			f, err := os.Open(src)
			if err != nil {
				b.Fatal(err)
			}
			runtime.GC()
			stop := make(chan struct{})
			peak := peakHeap(stop)
			start := time.Now()
			err = c.Upload(b.Context(), transports.Upload{Src: f, Size: uploadSize, Dst: filepath.Join(dst, "osrun.bin"), Mode: 0o644})
			if noSFTP {
				catT = min(catT, time.Since(start))
			} else {
				osrunT = min(osrunT, time.Since(start))
			}
			close(stop)
			heap = max(heap, <-peak)
			f.Close()
			c.Close()
			if err != nil {
				b.Fatal(err)
			}
			os.Remove(filepath.Join(dst, "osrun.bin"))
		}
		// sftp over x/crypto, no verification
		d, err := sftpUpload(h, kh, src, filepath.Join(dst, "sftp.bin"))
		if err != nil {
			b.Fatal(err)
		}
		sftpT = min(sftpT, d)
		// scp (OpenSSH 9 speaks SFTP underneath)
		start := time.Now()
		out, err := exec.Command("scp", "-q", "-i", h.SSH.PrivateKey, "-P", strconv.Itoa(h.SSH.Port),
			"-o", "UserKnownHostsFile="+kh, "-o", "StrictHostKeyChecking=yes", "-o", "IdentitiesOnly=yes",
			src, h.SSH.User+"@127.0.0.1:"+filepath.Join(dst, "scp.bin")).CombinedOutput()
		scpT = min(scpT, time.Since(start))
		if err != nil {
			b.Fatalf("scp: %v: %s", err, out)
		}
		for _, n := range []string{"osrun.bin", "sftp.bin", "scp.bin"} {
			os.Remove(filepath.Join(dst, n))
		}
	}
	mbs := func(d time.Duration) float64 { return float64(uploadSize) / d.Seconds() / (1 << 20) }
	b.ReportMetric(mbs(osrunT), "osrun-MiB/s")
	b.ReportMetric(mbs(catT), "osrun-cat-MiB/s")
	b.ReportMetric(mbs(sftpT), "sftp-MiB/s")
	b.ReportMetric(mbs(scpT), "scp-MiB/s")
	b.ReportMetric(mbs(osrunT)/mbs(scpT), "osrun/scp")
	b.ReportMetric(float64(heap)/(1<<20), "osrun-peak-heap-MiB")
}

func sftpUpload(h *inventory.Host, kh, src, dst string) (time.Duration, error) {
	key, err := os.ReadFile(h.SSH.PrivateKey)
	if err != nil {
		return 0, err
	}
	signer, err := ssh.ParsePrivateKey(key)
	if err != nil {
		return 0, err
	}
	cb, err := knownhosts.New(kh)
	if err != nil {
		return 0, err
	}
	cl, err := ssh.Dial("tcp", net.JoinHostPort(h.Address, strconv.Itoa(h.SSH.Port)), &ssh.ClientConfig{
		User: h.SSH.User, Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)}, HostKeyCallback: cb,
	})
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	sc, err := sftp.NewClient(cl, sftp.UseConcurrentWrites(true))
	if err != nil {
		return 0, err
	}
	defer sc.Close()
	f, err := os.Open(src)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	start := time.Now()
	w, err := sc.Create(dst)
	if err != nil {
		return 0, err
	}
	if _, err := w.ReadFrom(f); err != nil {
		return 0, err
	}
	if err := w.Close(); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}
