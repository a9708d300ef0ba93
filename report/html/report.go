package html

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
)

//go:embed report.html.tmpl
var reportText string

// html/template escapes every value for its context (text, attribute,
// URL), so error text and log tails from hosts cannot inject markup.
var reportTmpl = template.Must(template.New("report").Parse(reportText))

// WriteTo writes the report of what was collected so far; it can be called
// before the run ends (the report then says "incomplete").
func (c *Collector) WriteTo(w io.Writer) (int64, error) {
	c.mu.Lock()
	p := c.build()
	c.mu.Unlock()
	cw := &countWriter{w: w}
	if err := reportTmpl.Execute(cw, p); err != nil {
		return cw.n, fmt.Errorf("html report: %w", err)
	}
	return cw.n, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
