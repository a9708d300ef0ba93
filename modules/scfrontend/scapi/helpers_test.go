package scapi_test

import (
	"errors"

	"github.com/osrun/osrun/modules/scfrontend/scapi"
)

func asStatus(err error, se **scapi.StatusError) bool { return errors.As(err, se) }
