// Package accesstest provides working in-memory fakes of access's ports and the contract
// suites that real adapters must pass too.
//
// # Store
//
// MemStore is an in-memory access.Store with the semantics of the bbolt store: atomic
// updates, copies out, the same orderings and error codes. StoreContract is the suite both
// run (store.TestDB_Contract, accesstest.TestMemStore_Contract).
//
// # Rules
//
// accesstest imports access and the standard library only. It is imported by tests and by
// `jitbot demo`, never by production wiring.
package accesstest
