// Package sshbench measures the SSH transport against the tools operators
// compare it with, in the same run on the same real sshd: Ansible for many
// small commands on a farm, scp for one large upload. See README.md.
//
//	go test -run XXX -bench . -benchtime 1x ./bench/ssh/
package sshbench
