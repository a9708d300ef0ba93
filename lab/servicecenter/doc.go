// Package servicecenter is an in-process Service Center for the lab farm and
// for tests. It serves the HTTP contract that osrun's sc_frontend and
// wait_deployer modules speak by default (modules/scfrontend/CONTRACT.md):
// per front-end deployment enabled/disabled, and the threads of each front-
// end's Deployment Service.
//
// It also models what makes the balanced upgrade's order matter. Once the
// platform is upgraded (PlatformUpgraded, called by the lab when the
// controller's Configuration Tool runs), Service Center deploys applications
// built for the new version to every front-end whose deployment is enabled
// and whose Deployment Service is running: its threads work for DeployTime,
// then sleep. Deploying those components to a front-end that still runs an
// older platform breaks it (Broken) until that front-end's platform catches
// up (FrontendUpgraded) — the failure the guide avoids by disabling
// deployment on loaded front-ends first. Updating front-ends can break the
// same way for a while (the controller is upgraded before them); that is
// harmless because they are out of rotation, so the lab's monitor judges
// Broken together with the load balancer's rotation, at every Event.
//
// Entry points: New, then use the Server as an http.Handler (httptest.Server
// or the lab's listener) and drive it with PlatformUpgraded,
// FrontendUpgraded and SetDeployerRunning. Time is read from Options.Now on
// every call and nothing runs in the background, so tests advance a fake
// clock (or run under testing/synctest, using Transport instead of sockets).
package servicecenter
