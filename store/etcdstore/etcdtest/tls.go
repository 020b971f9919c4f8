package etcdtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
)

// TLSFiles are the PEM files of a test CA, and a client certificate it signed.
type TLSFiles struct {
	CA, ClientCert, ClientKey string
}

// StartTLS starts a member that serves clients over TLS only (https) and requires a client
// certificate signed by its CA, all made for the test in a temporary directory.
func StartTLS(tb testing.TB) (*Server, TLSFiles) {
	tb.Helper()
	dir := tb.TempDir()
	caKey, ca := newCert(tb, nil, nil, "jitbot test CA", true)
	caFile := writePEM(tb, dir, "ca.crt", "CERTIFICATE", ca.Raw)
	srvKey, srv := newCert(tb, caKey, ca, "127.0.0.1", false)
	cliKey, cli := newCert(tb, caKey, ca, "jitbot", false)
	files := TLSFiles{
		CA:         caFile,
		ClientCert: writePEM(tb, dir, "client.crt", "CERTIFICATE", cli.Raw),
		ClientKey:  writeKey(tb, dir, "client.key", cliKey),
	}
	info := transport.TLSInfo{
		CertFile:       writePEM(tb, dir, "server.crt", "CERTIFICATE", srv.Raw),
		KeyFile:        writeKey(tb, dir, "server.key", srvKey),
		TrustedCAFile:  caFile,
		ClientCertAuth: true,
	}
	var lastErr error
	for range 5 {
		s, err := startWith(tb.TempDir(), false, &info)
		if err == nil {
			tb.Cleanup(s.Close)
			return s, files
		}
		lastErr = err
	}
	tb.Fatalf("start embedded etcd with TLS: %v", lastErr)
	return nil, files
}

func newCert(tb testing.TB, parentKey *ecdsa.PrivateKey, parent *x509.Certificate, name string, isCA bool) (*ecdsa.PrivateKey, *x509.Certificate) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	if ip := net.ParseIP(name); ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	}
	if isCA {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage |= x509.KeyUsageCertSign
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	return key, cert
}

func writePEM(tb testing.TB, dir, name, typ string, der []byte) string {
	tb.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		tb.Fatal(err)
	}
	return p
}

func writeKey(tb testing.TB, dir, name string, key *ecdsa.PrivateKey) string {
	tb.Helper()
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	return writePEM(tb, dir, name, "EC PRIVATE KEY", der)
}
