// Command jitbot is the composition root: it reads configuration, opens the store, loads the
// policy, builds the Atlassian client and the Slack bot, and runs the sweeper, the scheduled
// jobs and the HTTP endpoints. It also holds the command-line tools (policy check [--online],
// plan, audit verify/export, backup, migrate --to etcd, demo, version).
//
// # Several replicas
//
// With JITBOT_STORE=etcd every replica handles the Slack envelopes it gets; the one elected
// with an etcd lease (leader.go) runs the sweeper and the scheduled jobs (lead.go) and stops
// them the moment its lease is in doubt; sync rules, sweeps and guard checks are held across
// replicas while they run (runlock.go).
//
// # Start-up
//
// `jitbot run` checks the Atlassian key and organization ID with one call before it is ready:
// a refusal stops it (exit 1, naming the variable), an outage is retried with /readyz saying
// why. Then every group and resource of the policy is checked against the org (again on
// SIGHUP); what does not resolve is an alert, never a stop.
//
// # Rules
//
// cmd/jitbot may import every package of the module; robfig/cron and prometheus live here
// only. The *test packages (bottest, atlassiantest) are imported for `jitbot demo` only.
package main
