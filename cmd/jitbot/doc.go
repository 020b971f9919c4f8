// Command jitbot is the composition root: it reads configuration, opens the store, loads the
// policy, builds the Atlassian client and the Slack bot, and runs the sweeper, the scheduled
// jobs and the HTTP endpoints. It also holds the command-line tools (policy check, plan, audit
// verify/export, demo, version).
//
// # Rules
//
// cmd/jitbot may import every package of the module; robfig/cron and prometheus live here
// only. The *test packages (bottest, atlassiantest) are imported for `jitbot demo` only.
package main
