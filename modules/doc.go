// Package modules defines what a task module is: its parameters (which the
// playbook loader checks at load time and the CLI documents), the Action it
// builds from decoded arguments, and the Check/Apply contract the runner
// drives. It also holds the explicit Registry of modules; the built-in set is
// assembled in modules/builtin.
package modules
