package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jitbot/jitbot/store/etcdstore"
)

// Store kinds (JITBOT_STORE).
const (
	storeBolt = "bbolt"
	storeEtcd = "etcd"
)

// StoreConfig is where the state lives: one bbolt file (JITBOT_DB_PATH) or an etcd cluster
// (JITBOT_ETCD_*, docs/configuration.md) shared by several replicas.
type StoreConfig struct {
	Kind      string
	DBPath    string
	Etcd      etcdstore.Options // AuditKey and Password are set when the store is opened
	Password  Secret            // JITBOT_ETCD_PASSWORD
	LeaderTTL time.Duration
}

// storeConfig reads JITBOT_STORE, JITBOT_DB_PATH, JITBOT_ETCD_* and JITBOT_LEADER_TTL.
func (e *env) storeConfig() StoreConfig {
	c := StoreConfig{
		Kind:   e.str("JITBOT_STORE", storeBolt),
		DBPath: e.str("JITBOT_DB_PATH", "jitbot.db"),
		Etcd: etcdstore.Options{
			Prefix:   e.str("JITBOT_ETCD_PREFIX", etcdstore.DefaultPrefix),
			Username: e.str("JITBOT_ETCD_USERNAME", ""),
		},
		Password:  e.secret("JITBOT_ETCD_PASSWORD", false),
		LeaderTTL: 10 * time.Second,
	}
	if c.DBPath == "" {
		e.problem("JITBOT_DB_PATH", "must not be empty")
	}
	switch c.Kind {
	case storeBolt:
	case storeEtcd:
		e.etcd(&c)
	default:
		e.problem("JITBOT_STORE", "%q must be bbolt (one process) or etcd (several replicas)", c.Kind)
	}
	return c
}

func (e *env) etcd(c *StoreConfig) {
	raw := e.str("JITBOT_ETCD_ENDPOINTS", "")
	for ep := range strings.SplitSeq(raw, ",") {
		if ep = strings.TrimSpace(ep); ep == "" {
			continue
		}
		if !validEndpoint(ep) {
			e.problem("JITBOT_ETCD_ENDPOINTS", "%q is not an etcd client URL such as https://etcd-0.etcd:2379", ep)
		}
		c.Etcd.Endpoints = append(c.Etcd.Endpoints, ep)
	}
	if len(c.Etcd.Endpoints) == 0 {
		e.problem("JITBOT_ETCD_ENDPOINTS", "is required with JITBOT_STORE=etcd: comma-separated client URLs such as https://etcd-0.etcd:2379")
	}
	if p := c.Etcd.Prefix; p == "" || !strings.HasSuffix(p, "/") {
		e.problem("JITBOT_ETCD_PREFIX", "%q must be a key prefix ending in /, such as /jitbot/", p)
	}
	if (c.Etcd.Username == "") != (c.Password == "") {
		e.problem("JITBOT_ETCD_USERNAME", "and JITBOT_ETCD_PASSWORD go together: set both or neither")
	}
	c.Etcd.TLS = e.etcdTLS()
	if v := e.str("JITBOT_LEADER_TTL", ""); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 2*time.Second || d > 5*time.Minute {
			e.problem("JITBOT_LEADER_TTL", "%q must be a duration between 2s and 5m, such as 10s", v)
		} else {
			c.LeaderTTL = d
		}
	}
	c.Etcd.MaxTxnOps = e.positive("JITBOT_ETCD_MAX_TXN_OPS", etcdstore.DefaultMaxTxnOps)
	c.Etcd.MaxTxnBytes = e.positive("JITBOT_ETCD_MAX_TXN_BYTES", etcdstore.DefaultMaxTxnBytes)
}

func validEndpoint(ep string) bool {
	if strings.Contains(ep, "://") {
		u, err := url.Parse(ep)
		return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
	}
	host, port, err := net.SplitHostPort(ep)
	_, perr := strconv.ParseUint(port, 10, 16)
	return err == nil && host != "" && perr == nil
}

// positive reads a positive integer, def when unset.
func (e *env) positive(name string, def int) int {
	v := e.str(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 || n > math.MaxInt32 {
		e.problem(name, "%q must be a positive whole number", v)
		return def
	}
	return n
}

// etcdTLS builds the client TLS configuration from JITBOT_ETCD_CA_FILE, _CERT_FILE and
// _KEY_FILE; nil when none is set.
func (e *env) etcdTLS() *tls.Config {
	ca, cert, key := e.str("JITBOT_ETCD_CA_FILE", ""), e.str("JITBOT_ETCD_CERT_FILE", ""), e.str("JITBOT_ETCD_KEY_FILE", "")
	if ca == "" && cert == "" && key == "" {
		return nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if ca != "" {
		pem, err := os.ReadFile(ca)
		pool := x509.NewCertPool()
		switch {
		case err != nil:
			e.problem("JITBOT_ETCD_CA_FILE", "cannot read %s: %v", ca, errors.Unwrap(err))
		case !pool.AppendCertsFromPEM(pem):
			e.problem("JITBOT_ETCD_CA_FILE", "%s holds no PEM certificate", ca)
		default:
			cfg.RootCAs = pool
		}
	}
	switch {
	case (cert == "") != (key == ""):
		e.problem("JITBOT_ETCD_CERT_FILE", "and JITBOT_ETCD_KEY_FILE go together: set both for a client certificate, or neither")
	case cert != "":
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			e.problem("JITBOT_ETCD_CERT_FILE", "cannot load the client certificate %s with key JITBOT_ETCD_KEY_FILE: %v", cert, err)
		} else {
			cfg.Certificates = []tls.Certificate{pair}
		}
	}
	return cfg
}

// describe says where the state is, for logs (never a secret).
func (c StoreConfig) describe() string {
	if c.Kind == storeEtcd {
		return fmt.Sprintf("etcd %s prefix %s", strings.Join(c.Etcd.Endpoints, ","), c.Etcd.Prefix)
	}
	return "bbolt " + c.DBPath
}
