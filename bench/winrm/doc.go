// Package winrmbench measures osrun's WinRM upload (one PowerShell
// pipeline fed base64 lines over stdin) against the chunked "echo >>"
// method of packer-community/winrmcp, implemented here only, in the same
// run against the same winrmtest server. See README.md.
//
//	go test -run XXX -bench . -benchtime 3x ./bench/winrm/
package winrmbench
