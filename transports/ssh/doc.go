// Package ssh is the transport for J2EE (Linux) front-ends: it runs
// commands and uploads files over one SSH connection per host.
//
// Entry points: Dial opens a *Conn for an inventory host; Dialer does the
// same for the runner, which only knows transports.Conn. Quote is the one
// function that turns a string into a POSIX shell word.
//
// Safety rules, in the spirit of OpenSSH's defaults:
//   - host keys are checked against known_hosts (hashed entries,
//     [host]:port, @cert-authority and @revoked) or a key pinned in the
//     inventory; an unknown key is refused unless host_key_checking is
//     "accept-new", a changed key is always refused, and "off" warns on
//     every dial;
//   - secrets are revealed only inside the handshake or written to a
//     command's stdin (the sudo password), never put on a command line;
//   - a cancelled command is killed on the host, process group included:
//     every command first reports its process group on stderr (a line the
//     transport strips), so cancellation can kill the whole group, which an
//     SSH "signal" request alone does not do.
//
// Commands run through the login shell of the remote user, which must be a
// POSIX shell; the command itself always runs under /bin/sh -c.
//
// Defaults for zero inventory settings: port 22, the local user name,
// ~/.ssh/known_hosts (Options.KnownHosts), strict host key checking, a
// 30 s dial timeout, a keepalive every 15 s (a negative Keepalive turns it
// off), no command timeout. Authentication tries the configured key file
// (or, when none is, the unencrypted ones of ~/.ssh/id_ed25519, id_ecdsa,
// id_rsa) and the ssh-agent keys, then the password.
//
// Uploads use SFTP when the server offers it, else they stream into cat;
// both end with one command that checks the SHA-256 on the host and only
// then renames the file into place. With become, uploads use cat under
// sudo.
package ssh
