package local

import (
	"testing"

	"github.com/osrun/osrun/transports"
	"github.com/osrun/osrun/transports/transporttest"
)

func TestConformance(t *testing.T) {
	transporttest.Run(t, func(t *testing.T) transports.Conn {
		return &Conn{Dir: t.TempDir()}
	})
}
