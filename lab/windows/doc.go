// Package windows is a simulated Windows front-end of the lab farm: a
// WS-Management endpoint (transports/winrm/winrmtest, HTTPS with NTLM) whose
// PowerShell side answers the scripts of osrun's installer and service
// modules (modules/hostscript/CONTRACT.md) by their first line,
// "# osrun:<module>/<script>", and keeps the state a real server would:
//
//   - the registry values HKLM\SOFTWARE\OutSystems\Installer\Server
//     (Server = the installed version, (Default) = the install directory);
//   - the OutSystems services with their status and startup type, which
//     move through StartPending and StopPending like the SCM shows them;
//   - the files osrun uploads (the installer, the pending marker);
//   - PlatformServer-<version>.exe: running it stops the OutSystems
//     services and takes the application server down for
//     Config.InstallTime, then records the version the installer file
//     declares (a line "version=<v>" in its content) and brings the
//     application server back; an injected failure exits with a code and
//     leaves a PlatformInstaller log for the module's error report;
//   - ConfigurationTool.com: on success it starts the OutSystems services
//     again and, with /UpgradeEnvironment (the controller), republishes
//     the environment.
//
// What these programs do to the rest of the farm (the application server,
// Service Center) goes through the Platform the farm passes in, so the
// package knows nothing of either.
//
// Entry point: Start, then the Host's address for the inventory and its
// accessors and failure injections; Close at the end.
package windows
