package installer

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// version is a dotted numeric version such as 11.31.0 or 11.31.0.45003.
type version []int

var (
	targetVersion = regexp.MustCompile(`^\d+(\.\d+){1,3}$`)
	// anyVersion finds a version inside text whose exact format is not
	// documented (the registry value, version.txt).
	anyVersion = regexp.MustCompile(`\d+(\.\d+)+`)
)

// parseTarget parses the version argument strictly.
func parseTarget(s string) (version, error) {
	if !targetVersion.MatchString(s) {
		return nil, fmt.Errorf("argument version: %q is not a version like 11.31.0", s)
	}
	return parseDigits(s), nil
}

// parseInstalled finds the version in what a host reports; nil if none.
func parseInstalled(s string) version {
	m := anyVersion.FindString(s)
	if m == "" {
		return nil
	}
	return parseDigits(m)
}

func parseDigits(s string) version {
	parts := strings.Split(s, ".")
	v := make(version, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil { // only on overflow: compare as the largest number
			n = int(^uint(0) >> 1)
		}
		v[i] = n
	}
	return v
}

func (v version) String() string {
	parts := make([]string, len(v))
	for i, n := range v {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ".")
}

// compareAt compares an installed version with a target at the target's
// precision: a target of 11.31.0 matches an installed 11.31.0.45003, since
// users name releases and the registry holds builds.
func compareAt(installed, target version) int {
	for i, t := range target {
		n := 0
		if i < len(installed) {
			n = installed[i]
		}
		switch {
		case n < t:
			return -1
		case n > t:
			return 1
		}
	}
	return 0
}
