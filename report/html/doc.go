// Package html writes a run as one self-contained HTML report: a header
// (run id, playbook, check or apply, outcome, duration), an SVG Gantt
// timeline of waves and per-host task bars, each front-end's load-balancer
// rotation state over time, the Platform Server versions before and after,
// the recap table and every failure with its error text and last progress
// lines. The file has no external assets (inline CSS and SVG, no script),
// so it can be kept as a CI artefact or mailed as is.
//
// Entry points: New returns a Collector, a runner.Sink fed the run's
// events. What the events do not carry can be added with SetVersions,
// RotationChange, SetRecap and SetTraffic. WriteTo writes the report; the
// same inputs always give the same bytes.
//
// Versions and rotation states are also read from the events themselves:
// the messages of installer tasks ("upgraded 11.29.1 → 11.31.0") and of
// lb_member tasks and progress lines ("fe01 enabled -> disabled", "draining
// fe01: ..."). Explicit calls win over what is read from messages.
package html
