// Package linux is a simulated J2EE (Linux) front-end of the lab farm: an
// in-process SSH server (golang.org/x/crypto/ssh) with its own host key and
// public-key authentication, that runs every command with the real /bin/sh
// in a private sandbox directory, with simulated programs first on PATH:
//
//   - service: SysV "service outsystems start|stop|status DEPLOYER|..."
//     (state files under state/services), the way modules/service expects;
//   - sudo: the sandbox runs as the user running the lab, so "sudo -n --"
//     just runs the command; the inventory keeps become = true and
//     exercises the transport's real become path (sudo with a password is
//     refused: the lab's account is NOPASSWD);
//   - $OUTSYSTEMS_HOME/configurationtool.sh, and version.txt;
//   - InstallerScript, the installer osrun uploads and runs.
//
// The module scripts name the real paths (/opt/outsystems/platform,
// /var/tmp/osrun). The server maps them into the sandbox by rewriting those
// two prefixes in each command line before /bin/sh sees it, a poor man's
// chroot that needs no privileges; files the commands write (version.txt,
// logs, uploads) land under Dir.
//
// The server recognises the module scripts by their "# osrun:<id>" line
// and plays the platform's effects around them through Platform: the
// installer takes the application server down while it runs and the
// Deployment Service with it; a successful Configuration Tool starts the
// services again (and, with /scinstall on the controller, republishes the
// environment); every change of the DEPLOYER state is reported after the
// command that made it.
//
// StartSSHD serves the same sandbox with a real OpenSSH sshd instead: its
// ForceCommand (lab-exec) maps the paths and hands each command to the
// host before and after it runs, through files the host plays and
// removes, so the effects are the same.
//
// Entry points: Start or StartSSHD, then Addr and KnownHostsLine for the
// inventory and its known_hosts file; Close at the end.
package linux
