// Package etcdtest starts a real etcd server inside the test process (etcd's own embed
// package), on free loopback ports and a temporary directory, for the etcd store's contract
// tests, migration tests and the several-replica tests of cmd/jitbot. For tests only.
package etcdtest
