package lbtest_test

import (
	"testing"

	"github.com/osrun/osrun/modules/lbmember/lbtest"
)

func TestFakeConforms(t *testing.T) {
	lbtest.Run(t, func(t *testing.T) *lbtest.Harness {
		f := lbtest.NewFake("web", "fe01", "fe02", "fe03")
		f.SetRiseReads(2)
		return f.Harness()
	})
}
