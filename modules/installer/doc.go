// Package installer is the "installer" module: it upgrades a host's
// OutSystems Platform Server to a target version and runs the
// Configuration Tool after it, on Windows (.NET stack, over WinRM with
// PowerShell) and Linux (J2EE stack, over SSH with sh).
//
// It reads the installed version first (the registry value Server under
// HKLM\SOFTWARE\OutSystems\Installer\Server, or $OUTSYSTEMS_HOME/version.txt)
// and does nothing when it matches, refuses a downgrade, and otherwise
// stages the installer (uploaded, or copied by the host from a share or
// URL, always SHA-256 verified and renamed into place only when complete),
// runs it, and runs the Configuration Tool with the controller-only options
// on the controller. A marker file in the staging directory records that a
// configuration is pending, so a run that fails between the two steps
// resumes with the Configuration Tool; another holds the installer's
// process id while it runs, so a run that died or lost its connection
// mid-install is resumed by waiting for that installer (Check says so),
// never by starting a second one. Every script it sends is a template
// under scripts/.
//
// Entry point: Definition.
package installer
