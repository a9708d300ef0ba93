// Package scale holds osrun's scale benchmarks (issue 6, "Scale"): plan
// and verify on a generated 2,000-host inventory against 20 hosts, and the
// whole balanced upgrade of a 200-front-end lab farm against 20
// front-ends. There is no code here besides the benchmarks; README.md says
// how to run them and what they measured.
package scale
