package playbook

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/osrun/osrun/inventory/secret"
)

// VarsDigest fingerprints the final variable values. A run's journal keeps
// it so that a resume with other values (another target version would
// find the first run's installs done) can be refused. A secret adds only
// its name: a hash of a password, written to disk, could be guessed back.
func (pb *Playbook) VarsDigest() string {
	h := sha256.New()
	for _, name := range slices.Sorted(maps.Keys(pb.Vars)) {
		v := pb.Vars[name]
		fmt.Fprintf(h, "%q=", name)
		switch {
		case v == cty.NilVal:
			h.Write([]byte("nil"))
		case secret.IsMarked(v):
			h.Write([]byte("secret"))
		default:
			v, _ = v.UnmarkDeep()
			b, err := ctyjson.Marshal(v, cty.DynamicPseudoType)
			if err != nil {
				// Unknown values cannot be marshalled; their rendering still
				// tells them apart.
				b = []byte(v.GoString())
			}
			h.Write(b)
		}
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))
}
