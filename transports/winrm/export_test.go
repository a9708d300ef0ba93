package winrm

// Internals the external tests check.
var (
	Render          = render
	EncodeCommand   = encodeCommand
	NewCLIXMLWriter = newCLIXMLWriter
)

type RunData = runData
type PathData = pathData
