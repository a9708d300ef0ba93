package winrmtest

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"net"
)

// Authority is a throw-away certificate authority for simulated Windows
// hosts outside this package's own servers: the lab farm signs each host's
// WinRM certificate for the host's loopback address, and its inventory
// trusts the authority through ca_file, so the real transport verifies TLS
// as it would in production.
type Authority struct{ ca *authority }

// NewAuthority creates an authority with a fresh key.
func NewAuthority() (*Authority, error) {
	ca, err := newAuthority()
	if err != nil {
		return nil, err
	}
	return &Authority{ca: ca}, nil
}

// PEM is the authority's certificate, for a ca_file.
func (a *Authority) PEM() []byte { return a.ca.certPEM }

// ServerTLS returns a server configuration whose certificate names ip and name.
func (a *Authority) ServerTLS(ip net.IP, name string) (*tls.Config, error) {
	certPEM, keyPEM, err := a.ca.issue(&x509.Certificate{
		Subject:     pkix.Name{CommonName: name},
		DNSNames:    []string{name},
		IPAddresses: []net.IP{ip},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		return nil, err
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}
