package installer

import "testing"

func TestCompareAt(t *testing.T) {
	tests := []struct {
		installed, target string
		want              int
	}{
		{"11.29.1", "11.31.0", -1},
		{"11.31.0", "11.31.0", 0},
		{"11.31.0.45003", "11.31.0", 0},
		{"11.31", "11.31.0", 0},
		{"11.31.1.2", "11.31.0", 1},
		{"11.9.0", "11.10.0", -1},
		{"Platform Server 11.31.0 (Build 45003)", "11.31.0", 0},
	}
	for _, tt := range tests {
		t.Run(tt.installed+" vs "+tt.target, func(t *testing.T) {
			target, err := parseTarget(tt.target)
			if err != nil {
				t.Fatal(err)
			}
			if got := compareAt(parseInstalled(tt.installed), target); got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	for _, bad := range []string{"", "11", "v11.31.0", "11.31.0-rc1", "11..0", "1.2.3.4.5"} {
		if _, err := parseTarget(bad); err == nil {
			t.Errorf("parseTarget(%q) accepted", bad)
		}
	}
	if v := parseInstalled("no digits"); v != nil {
		t.Errorf("parseInstalled found %v", v)
	}
	if v := parseInstalled("11.31.0.45003\n"); v.String() != "11.31.0.45003" {
		t.Errorf("parseInstalled = %v", v)
	}
}
