package turnsrv

import (
	"crypto/tls"
	"fmt"
	"os"
	"sync"
	"time"
)

// certCheckEvery is how often a handshake looks for a renewed
// certificate on disk, so that a renewal (certbot, ...) takes effect
// without a restart.
const certCheckEvery = time.Minute

// certLoader serves the certificate in certFile/keyFile, reloading it when
// the files change.
type certLoader struct {
	certFile, keyFile string

	mu      sync.Mutex
	cert    *tls.Certificate
	modTime time.Time
	checked time.Time
}

func newCertLoader(certFile, keyFile string) (*certLoader, error) {
	l := &certLoader{certFile: certFile, keyFile: keyFile}
	if _, err := l.get(time.Now()); err != nil {
		return nil, err
	}
	return l, nil
}

// get returns the current certificate, reloading it if its file changed;
// a failed reload keeps serving the previous one.
func (l *certLoader) get(now time.Time) (*tls.Certificate, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cert != nil && now.Sub(l.checked) < certCheckEvery {
		return l.cert, nil
	}
	l.checked = now
	st, err := os.Stat(l.certFile)
	if err == nil && l.cert != nil && st.ModTime().Equal(l.modTime) {
		return l.cert, nil
	}
	cert, lerr := tls.LoadX509KeyPair(l.certFile, l.keyFile)
	if err != nil || lerr != nil {
		if l.cert != nil {
			return l.cert, nil
		}
		if lerr == nil {
			lerr = err
		}
		return nil, fmt.Errorf("%w: CertFile %q, KeyFile %q: %w", ErrTLSConfig, l.certFile, l.keyFile, lerr)
	}
	l.cert, l.modTime = &cert, st.ModTime()
	return l.cert, nil
}

// tlsConfig is the server's TLS configuration for "turns:".
func (l *certLoader) tlsConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return l.get(time.Now())
		},
	}
}
