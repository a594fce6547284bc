package api_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/api"
	"github.com/vigil-dev/vigil/internal/api/client"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/sqlite"
)

// selfSigned writes a certificate and key for 127.0.0.1 and returns their
// paths and a pool that trusts the certificate.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "vigil test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// testTLS runs the server with a certificate on 127.0.0.1: HTTPS works, plain
// HTTP does not, and cancelling Run's context shuts it down.
func testTLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	st, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(t.TempDir(), "vigil.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	secret := api.NewSecret()
	if _, err := st.CreateToken(ctx, store.Token{Name: "ops", Scope: store.ScopeAdmin, Hash: api.HashSecret(secret)}, store.Actor{Name: "t"}); err != nil {
		t.Fatal(err)
	}
	cfg := api.DefaultConfig()
	cfg.TLSCert, cfg.TLSKey = certFile, keyFile
	srv, err := api.New(cfg, api.Deps{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(runCtx, ln) }()
	addr := ln.Addr().String()

	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	c, err := client.New(client.Config{Server: "https://" + addr, Token: secret, HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	if ids, err := c.ListDetectors(ctx); err != nil || len(ids) != 1 || ids[0] != "default" {
		t.Fatalf("over HTTPS: %v %v", ids, err)
	}
	plain, _ := client.New(client.Config{Server: "http://" + addr, Token: secret, Timeout: 5 * time.Second})
	if _, err := plain.ListDetectors(ctx); err == nil {
		t.Error("plain HTTP accepted by a TLS server")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve after cancel: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
	if _, err := c.ListDetectors(ctx); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("after shutdown: %v", err)
	}

	// Bad TLS configuration is an error at New or Serve, not a plain server.
	cfg.TLSKey = ""
	if _, err := api.New(cfg, api.Deps{Store: st}); err == nil {
		t.Error("a certificate without a key accepted")
	}
	cfg.TLSKey = certFile // not a key
	srv, _ = api.New(cfg, api.Deps{Store: st})
	ln, _ = net.Listen("tcp", "127.0.0.1:0")
	if err := srv.Serve(ctx, ln); err == nil || !strings.Contains(err.Error(), "TLS") {
		t.Errorf("Serve with a bad key: %v", err)
	}
}
