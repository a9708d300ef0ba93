package winrmtest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"html"
	"net/http"
	"strings"
	"time"
)

const (
	nsShell = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"

	actCreate  = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create"
	actDelete  = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete"
	actCommand = nsShell + "/Command"
	actReceive = nsShell + "/Receive"
	actSend    = nsShell + "/Send"
	actSignal  = nsShell + "/Signal"

	stateRunning = nsShell + "/CommandState/Running"
	stateDone    = nsShell + "/CommandState/Done"

	signalTerminate = nsShell + "/signal/terminate"
	signalCtrlC     = nsShell + "/signal/ctrl_c"
)

// Element names are matched without namespaces: the client always uses the
// standard ones and a fake gains nothing by rejecting variants.
type envelope struct {
	Header struct {
		Action           string `xml:"Action"`
		MaxEnvelopeSize  int    `xml:"MaxEnvelopeSize"`
		MessageID        string `xml:"MessageID"`
		OperationTimeout string `xml:"OperationTimeout"`
		Selectors        []struct {
			Name  string `xml:"Name,attr"`
			Value string `xml:",chardata"`
		} `xml:"SelectorSet>Selector"`
	} `xml:"Header"`
	Body struct {
		CommandLine *struct {
			Command   string   `xml:"Command"`
			Arguments []string `xml:"Arguments"`
		} `xml:"CommandLine"`
		Receive *struct {
			DesiredStream struct {
				CommandID string `xml:"CommandId,attr"`
			} `xml:"DesiredStream"`
		} `xml:"Receive"`
		Send *struct {
			Streams []struct {
				Name      string `xml:"Name,attr"`
				CommandID string `xml:"CommandId,attr"`
				End       string `xml:"End,attr"`
				Data      string `xml:",chardata"`
			} `xml:"Stream"`
		} `xml:"Send"`
		Signal *struct {
			CommandID string `xml:"CommandId,attr"`
			Code      string `xml:"Code"`
		} `xml:"Signal"`
	} `xml:"Body"`
}

func (e *envelope) shellID() string {
	for _, s := range e.Header.Selectors {
		if s.Name == "ShellId" {
			return strings.TrimSpace(s.Value)
		}
	}
	return ""
}

func parseEnvelope(b []byte) (*envelope, error) {
	var e envelope
	if err := xml.Unmarshal(b, &e); err != nil {
		return nil, err
	}
	if e.Header.Action == "" {
		return nil, fmt.Errorf("no a:Action header")
	}
	return &e, nil
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return strings.ToUpper(fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]))
}

func opName(action string) string {
	switch action {
	case actCreate:
		return "Create"
	case actDelete:
		return "Delete"
	case actCommand:
		return "Command"
	case actReceive:
		return "Receive"
	case actSend:
		return "Send"
	case actSignal:
		return "Signal"
	}
	return action
}

func (s *Server) dispatch(w http.ResponseWriter, r *http.Request, env *envelope) {
	op := opName(env.Header.Action)
	relates := env.Header.MessageID
	s.mu.Lock()
	if q := s.faults[op]; len(q) > 0 {
		f := q[0]
		s.faults[op] = q[1:]
		s.recordLocked(Event{Op: op, ShellID: env.shellID(), Detail: f.Subcode, Fault: true})
		s.mu.Unlock()
		writeFault(w, relates, f)
		return
	}
	s.mu.Unlock()

	switch env.Header.Action {
	case actCreate:
		s.create(w, relates)
	case actDelete:
		s.delete(w, env, relates)
	case actCommand:
		s.command(w, env, relates)
	case actReceive:
		s.receive(w, r, env, relates)
	case actSend:
		s.send(w, env, relates)
	case actSignal:
		s.signal(w, env, relates)
	default:
		writeFault(w, relates, Fault{Subcode: "w:ActionNotSupported", Code: 2150858754,
			Message: "The WS-Management service cannot process the request because the action is not supported: " + env.Header.Action})
	}
}

func faultShellNotFound(id string) Fault {
	return Fault{Subcode: "w:InvalidSelectors", Code: 2150858843,
		Message: fmt.Sprintf("The request for the Windows Remote Shell with ShellId %s failed because the shell was not found on the server. Possible causes are: the specified ShellId is incorrect or the shell no longer exists on the server. Provide the correct ShellId or create a new shell and retry the operation.", id)}
}

func faultCommandNotFound(id string) Fault {
	return Fault{Subcode: "w:InvalidSelectors", Code: 2150858843,
		Message: fmt.Sprintf("The Windows Remote Shell received a request for command %s that does not exist on the server.", id)}
}

// lookup finds a shell and, if cid is not "", a command, or writes a fault.
func (s *Server) lookup(w http.ResponseWriter, op, sid, cid, relates string) (*shell, *command, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sh := s.shells[sid]
	if sh == nil {
		f := faultShellNotFound(sid)
		s.recordLocked(Event{Op: op, ShellID: sid, CommandID: cid, Detail: f.Subcode, Fault: true})
		writeFault(w, relates, f)
		return nil, nil, false
	}
	if cid == "" {
		return sh, nil, true
	}
	c := sh.cmds[cid]
	if c == nil {
		f := faultCommandNotFound(cid)
		s.recordLocked(Event{Op: op, ShellID: sid, CommandID: cid, Detail: f.Subcode, Fault: true})
		writeFault(w, relates, f)
		return nil, nil, false
	}
	return sh, c, true
}

func (s *Server) create(w http.ResponseWriter, relates string) {
	id := newID()
	s.mu.Lock()
	s.shells[id] = &shell{id: id, cmds: map[string]*command{}}
	s.recordLocked(Event{Op: "Create", ShellID: id})
	s.mu.Unlock()
	body := fmt.Sprintf(`<x:ResourceCreated><a:Address>%s</a:Address><a:ReferenceParameters><w:ResourceURI>http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd</w:ResourceURI><w:SelectorSet><w:Selector Name="ShellId">%s</w:Selector></w:SelectorSet></a:ReferenceParameters></x:ResourceCreated><rsp:Shell><rsp:ShellId>%s</rsp:ShellId><rsp:ResourceUri>http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd</rsp:ResourceUri><rsp:Owner>%s</rsp:Owner><rsp:ClientIP>127.0.0.1</rsp:ClientIP><rsp:IdleTimeOut>PT7200.000S</rsp:IdleTimeOut><rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>`,
		html.EscapeString(s.URL), id, id, html.EscapeString(s.opts.User))
	writeResponse(w, "http://schemas.xmlsoap.org/ws/2004/09/transfer/CreateResponse", relates, body)
}

func (s *Server) delete(w http.ResponseWriter, env *envelope, relates string) {
	sid := env.shellID()
	sh, _, ok := s.lookup(w, "Delete", sid, "", relates)
	if !ok {
		return
	}
	s.mu.Lock()
	delete(s.shells, sid)
	for _, c := range sh.cmds {
		c.terminate()
	}
	s.recordLocked(Event{Op: "Delete", ShellID: sid})
	s.mu.Unlock()
	writeResponse(w, "http://schemas.xmlsoap.org/ws/2004/09/transfer/DeleteResponse", relates, "")
}

func (s *Server) command(w http.ResponseWriter, env *envelope, relates string) {
	sid := env.shellID()
	sh, _, ok := s.lookup(w, "Command", sid, "", relates)
	if !ok {
		return
	}
	cl := env.Body.CommandLine
	if cl == nil || strings.TrimSpace(cl.Command) == "" {
		f := Fault{Subcode: "w:InvalidParameter", Code: 2150858882, Message: "The WS-Management service cannot process the request because the command line is empty."}
		s.record(Event{Op: "Command", ShellID: sid, Detail: f.Subcode, Fault: true})
		writeFault(w, relates, f)
		return
	}
	line := cl.Command
	for _, a := range cl.Arguments {
		line += " " + a
	}
	if len(line) > s.opts.MaxCommandLine {
		f := Fault{Subcode: "w:InternalError", Code: 2147942606, Message: "The filename or extension is too long. "}
		s.record(Event{Op: "Command", ShellID: sid, Detail: f.Subcode, Fault: true})
		writeFault(w, relates, f)
		return
	}
	c := newCommand(newID(), line)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		writeFault(w, relates, Fault{Subcode: "w:InternalError", Code: 2150858843, Message: "server closing"})
		return
	}
	sh.cmds[c.id] = c
	s.recordLocked(Event{Op: "Command", ShellID: sid, CommandID: c.id})
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		c.run(s.baseCtx, s.handler)
	}()
	writeResponse(w, nsShell+"/CommandResponse", relates,
		fmt.Sprintf(`<rsp:CommandResponse><rsp:CommandId>%s</rsp:CommandId></rsp:CommandResponse>`, c.id))
}

func (s *Server) send(w http.ResponseWriter, env *envelope, relates string) {
	sid := env.shellID()
	if env.Body.Send == nil || len(env.Body.Send.Streams) == 0 {
		writeFault(w, relates, Fault{Subcode: "w:InvalidParameter", Code: 2150858882, Message: "Send without a stream"})
		return
	}
	for _, st := range env.Body.Send.Streams {
		_, c, ok := s.lookup(w, "Send", sid, st.CommandID, relates)
		if !ok {
			return
		}
		data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(st.Data))
		if err != nil {
			writeFault(w, relates, Fault{Subcode: "w:InvalidParameter", Code: 2150858882, Message: "stdin is not base64: " + err.Error()})
			return
		}
		end := st.End == "true"
		detail := ""
		if end {
			detail = "end"
		}
		// Recorded first: the process may react to its input at once.
		s.record(Event{Op: "Send", ShellID: sid, CommandID: c.id, Detail: detail})
		c.stdin.write(data, end)
	}
	writeResponse(w, nsShell+"/SendResponse", relates, `<rsp:SendResponse/>`)
}

func (s *Server) signal(w http.ResponseWriter, env *envelope, relates string) {
	sid := env.shellID()
	if env.Body.Signal == nil {
		writeFault(w, relates, Fault{Subcode: "w:InvalidParameter", Code: 2150858882, Message: "Signal without a body"})
		return
	}
	sig := env.Body.Signal
	_, c, ok := s.lookup(w, "Signal", sid, sig.CommandID, relates)
	if !ok {
		return
	}
	code := strings.TrimSpace(sig.Code)
	if code == signalTerminate || code == signalCtrlC {
		c.terminate()
	}
	s.record(Event{Op: "Signal", ShellID: sid, CommandID: c.id, Detail: code})
	writeResponse(w, nsShell+"/SignalResponse", relates, `<rsp:SignalResponse/>`)
}

func (s *Server) receive(w http.ResponseWriter, r *http.Request, env *envelope, relates string) {
	sid := env.shellID()
	if env.Body.Receive == nil {
		writeFault(w, relates, Fault{Subcode: "w:InvalidParameter", Code: 2150858882, Message: "Receive without DesiredStream"})
		return
	}
	cid := env.Body.Receive.DesiredStream.CommandID
	sh, c, ok := s.lookup(w, "Receive", sid, cid, relates)
	if !ok {
		return
	}
	timer := time.NewTimer(s.operationTimeout(env.Header.OperationTimeout))
	defer timer.Stop()
	// Like Windows, never answer with more than the client's
	// MaxEnvelopeSize: base64 of both streams plus the envelope.
	chunk := s.opts.ReceiveChunk
	if m := env.Header.MaxEnvelopeSize; m > 0 {
		chunk = min(chunk, max((m-2048)*3/4/2, 1))
	}
	for {
		out, errOut, done, exit, wait := c.take(chunk)
		if sh.lost.Load() {
			// A rebooted host answers nothing: drop the connection.
			panic(http.ErrAbortHandler)
		}
		if len(out) > 0 || len(errOut) > 0 || done {
			var b strings.Builder
			b.WriteString(`<rsp:ReceiveResponse>`)
			writeStream(&b, "stdout", cid, out, done)
			writeStream(&b, "stderr", cid, errOut, done)
			detail := ""
			if done {
				detail = "done"
				fmt.Fprintf(&b, `<rsp:CommandState CommandId="%s" State="%s"><rsp:ExitCode>%d</rsp:ExitCode></rsp:CommandState>`, cid, stateDone, exit)
			} else {
				fmt.Fprintf(&b, `<rsp:CommandState CommandId="%s" State="%s"/>`, cid, stateRunning)
			}
			b.WriteString(`</rsp:ReceiveResponse>`)
			s.record(Event{Op: "Receive", ShellID: sid, CommandID: cid, Detail: detail})
			writeResponse(w, nsShell+"/ReceiveResponse", relates, b.String())
			return
		}
		select {
		case <-wait:
		case <-timer.C:
			s.record(Event{Op: "Receive", ShellID: sid, CommandID: cid, Detail: "timeout", Fault: true})
			writeFault(w, relates, Fault{Subcode: "w:TimedOut", Code: 2150858793,
				Message: "The WS-Management service cannot complete the operation within the time specified in OperationTimeout.  "})
			return
		case <-r.Context().Done():
			return
		}
	}
}

func writeStream(b *strings.Builder, name, cid string, data []byte, end bool) {
	if len(data) == 0 && !end {
		return
	}
	endAttr := ""
	if end && len(data) == 0 {
		endAttr = ` End="true"`
	}
	fmt.Fprintf(b, `<rsp:Stream Name="%s" CommandId="%s"%s>%s</rsp:Stream>`, name, cid, endAttr, base64.StdEncoding.EncodeToString(data))
}

const envelopeOpen = `<s:Envelope xml:lang="en-US" xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell" xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd">`

func writeEnvelope(w http.ResponseWriter, status int, action, relates, body string) {
	w.Header().Set("Content-Type", "application/soap+xml;charset=UTF-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, `%s<s:Header><a:Action>%s</a:Action><a:MessageID>uuid:%s</a:MessageID><a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To><a:RelatesTo>%s</a:RelatesTo></s:Header><s:Body>%s</s:Body></s:Envelope>`,
		envelopeOpen, action, newID(), html.EscapeString(relates), body)
}

func writeResponse(w http.ResponseWriter, action, relates, body string) {
	writeEnvelope(w, http.StatusOK, action, relates, body)
}

// writeFault answers like Windows: HTTP 500 with a SOAP fault body, which
// the 2021 masterzen/winrm hands back as if it were a success.
func writeFault(w http.ResponseWriter, relates string, f Fault) {
	status := f.Status
	if status == 0 {
		status = http.StatusInternalServerError
	}
	if f.Subcode == "" {
		f.Subcode = "w:InternalError"
	}
	msg := html.EscapeString(f.Message)
	body := fmt.Sprintf(`<s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>%s</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">%s</s:Text></s:Reason><s:Detail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="%d" Machine="127.0.0.1"><f:Message>%s</f:Message></f:WSManFault></s:Detail></s:Fault>`,
		html.EscapeString(f.Subcode), msg, f.Code, msg)
	writeEnvelope(w, status, "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault", relates, body)
}
