package etcdstore_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.etcd.io/etcd/client/pkg/v3/transport"
)

// ca is a certificate authority made for one test with crypto/x509.
type ca struct {
	t    *testing.T
	dir  string
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
	n    int64
}

func newCA(t *testing.T, name string) *ca {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	c := &ca{t: t, dir: t.TempDir(), cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), n: 1}
	require.NoError(t, os.WriteFile(c.file("ca.crt"), c.pem, 0o600))
	return c
}

func (c *ca) file(name string) string { return filepath.Join(c.dir, name) }

// issue makes a key and a certificate signed by the CA, for a server (with IP SANs) or a
// client (CN is the etcd user), and writes both as PEM files named <name>.crt and <name>.key.
func (c *ca) issue(name, cn string, server bool) tls.Certificate {
	c.t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(c.t, err)
	c.n++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(c.n),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, &key.PublicKey, c.key)
	require.NoError(c.t, err)
	kder, err := x509.MarshalECPrivateKey(key)
	require.NoError(c.t, err)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
	require.NoError(c.t, os.WriteFile(c.file(name+".crt"), certPEM, 0o600))
	require.NoError(c.t, os.WriteFile(c.file(name+".key"), keyPEM, 0o600))
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	require.NoError(c.t, err)
	return pair
}

// serverTLS is a member's TLS: a certificate for 127.0.0.1, client certificates required.
func (c *ca) serverTLS() *transport.TLSInfo {
	c.issue("server", "etcd", true)
	return &transport.TLSInfo{CertFile: c.file("server.crt"), KeyFile: c.file("server.key"),
		TrustedCAFile: c.file("ca.crt"), ClientCertAuth: true}
}

// pool trusts the CA.
func (c *ca) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AppendCertsFromPEM(c.pem)
	return p
}
