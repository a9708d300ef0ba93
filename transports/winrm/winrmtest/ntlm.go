package winrmtest

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"time"
	"unicode/utf16"

	"golang.org/x/crypto/md4"
)

// NTLM server side (MS-NLMP), NTLMv2 only, no signing or sealing: enough to
// check a client's proof of the password the way a Windows server does.

const (
	ntlmNegotiateUnicode      = 1 << 0
	ntlmRequestTarget         = 1 << 2
	ntlmNegotiateNTLM         = 1 << 9
	ntlmAlwaysSign            = 1 << 15
	ntlmTargetTypeDomain      = 1 << 16
	ntlmExtendedSessionSecure = 1 << 19
	ntlmTargetInfo            = 1 << 23
	ntlmNegotiate128          = 1 << 29
	ntlmNegotiate56           = 1 << 31

	ntlmDomain   = "OSRUN"
	ntlmComputer = "WINFE"
)

var ntlmSignature = []byte("NTLMSSP\x00")

// ntlmStep advances the handshake on one connection. It returns done when
// an AUTHENTICATE message proved the password, or a base64 CHALLENGE to
// send back for a NEGOTIATE message.
func (s *Server) ntlmStep(cs *connState, token string) (done bool, challenge string, err error) {
	msg, err := base64.StdEncoding.DecodeString(strings.TrimSpace(token))
	if err != nil {
		return false, "", err
	}
	if len(msg) < 12 || !bytes.Equal(msg[:8], ntlmSignature) {
		return false, "", errors.New("not an NTLM message")
	}
	switch binary.LittleEndian.Uint32(msg[8:12]) {
	case 1:
		ch := make([]byte, 8)
		_, _ = rand.Read(ch)
		cs.mu.Lock()
		cs.challenge = ch
		cs.mu.Unlock()
		return false, base64.StdEncoding.EncodeToString(challengeMessage(ch)), nil
	case 3:
		cs.mu.Lock()
		ch := cs.challenge
		cs.challenge = nil
		cs.mu.Unlock()
		if ch == nil {
			return false, "", errors.New("AUTHENTICATE without CHALLENGE on this connection")
		}
		if err := s.verifyAuthenticate(msg, ch); err != nil {
			return false, "", err
		}
		cs.mu.Lock()
		cs.authenticated = true
		cs.mu.Unlock()
		return true, "", nil
	}
	return false, "", errors.New("unexpected NTLM message type")
}

func utf16le(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, r := range u {
		binary.LittleEndian.PutUint16(b[2*i:], r)
	}
	return b
}

func fromUTF16le(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

func challengeMessage(serverChallenge []byte) []byte {
	target := utf16le(ntlmDomain)
	var info bytes.Buffer
	av := func(id uint16, v []byte) {
		_ = binary.Write(&info, binary.LittleEndian, id)
		_ = binary.Write(&info, binary.LittleEndian, uint16(len(v)))
		info.Write(v)
	}
	av(2, utf16le(ntlmDomain))
	av(1, utf16le(ntlmComputer))
	ts := make([]byte, 8)
	binary.LittleEndian.PutUint64(ts, uint64(time.Now().UnixNano()/100)+116444736000000000)
	av(7, ts)
	av(0, nil)

	const headerLen = 48
	flags := uint32(ntlmNegotiateUnicode | ntlmRequestTarget | ntlmNegotiateNTLM | ntlmAlwaysSign |
		ntlmTargetTypeDomain | ntlmExtendedSessionSecure | ntlmTargetInfo | ntlmNegotiate128 | ntlmNegotiate56)
	var m bytes.Buffer
	m.Write(ntlmSignature)
	_ = binary.Write(&m, binary.LittleEndian, uint32(2))
	varField(&m, len(target), headerLen)
	_ = binary.Write(&m, binary.LittleEndian, flags)
	m.Write(serverChallenge)
	m.Write(make([]byte, 8))
	varField(&m, info.Len(), headerLen+len(target))
	m.Write(target)
	m.Write(info.Bytes())
	return m.Bytes()
}

func varField(m *bytes.Buffer, n, offset int) {
	_ = binary.Write(m, binary.LittleEndian, uint16(n))
	_ = binary.Write(m, binary.LittleEndian, uint16(n))
	_ = binary.Write(m, binary.LittleEndian, uint32(offset))
}

func readField(msg []byte, at int) ([]byte, error) {
	if len(msg) < at+8 {
		return nil, errors.New("short NTLM message")
	}
	n := int(binary.LittleEndian.Uint16(msg[at:]))
	off := int(binary.LittleEndian.Uint32(msg[at+4:]))
	if off < 0 || off+n > len(msg) {
		return nil, errors.New("NTLM field out of range")
	}
	return msg[off : off+n], nil
}

// verifyAuthenticate checks the NTLMv2 proof: NTProofStr must equal
// HMAC-MD5(NTOWFv2(password, user, domain), serverChallenge || blob).
func (s *Server) verifyAuthenticate(msg, serverChallenge []byte) error {
	nt, err := readField(msg, 20)
	if err != nil {
		return err
	}
	dom, err := readField(msg, 28)
	if err != nil {
		return err
	}
	usr, err := readField(msg, 36)
	if err != nil {
		return err
	}
	if len(nt) < 16+28 {
		return errors.New("not an NTLMv2 response")
	}
	user, domain := fromUTF16le(usr), fromUTF16le(dom)
	if !sameUser(user, s.opts.User) {
		return errors.New("unknown user")
	}
	h := md4.New()
	h.Write(utf16le(s.opts.Password))
	ntowf := hmacMD5(h.Sum(nil), utf16le(strings.ToUpper(user)+domain))
	proof := hmacMD5(ntowf, serverChallenge, nt[16:])
	if !hmac.Equal(proof, nt[:16]) {
		return errors.New("bad password")
	}
	return nil
}

func hmacMD5(key []byte, data ...[]byte) []byte {
	m := hmac.New(md5.New, key)
	for _, d := range data {
		m.Write(d)
	}
	return m.Sum(nil)
}
