// Package policies reads jitbot's policy file (docs/configuration.md) into an access.Policy.
//
// # Loading
//
// Load and Parse decode the YAML strictly: every unknown key, bad duration, bad cron spec,
// unknown team, bad enum value, missing required field and CEL expression that does not
// compile to a boolean is reported, all of them at once, as an *Errors whose problems read
// FILE:LINE: field: message. Defaults from the contract are applied, and team names in
// approvers, permissions and reviewers are expanded into principals (Slack U…/W…/S… IDs or
// e-mail addresses). A Slack user-group ID (S…) counts as one approver when approvals are
// checked against the number of approvers.
//
// # Conditions
//
// auto_approve, request_if and match expressions are CEL, compiled and type-checked once at load time
// against the variables user, requester, request and now; misspelled fields are load errors.
// The compiled values implement access.Condition. Compile is exported for tests and tools.
// LoadWithWarnings also reports, as warnings that leave the file valid, an auto_approve or
// request_if that reads request.reason or requester.name: text the requester controls.
//
// # Refused combinations
//
// A break_glass role needs requesters and takes no auto_approve or approvals (its approvers may
// end the grant). A sync rule may add to a guard-protected group only with allow_protected.
//
// # Schedules
//
// Schedules are five-field cron specs (month and weekday names allowed), the @hourly, @daily,
// @midnight, @weekly, @monthly, @yearly and @annually descriptors, or @every DURATION. They are
// validated here with the grammar that github.com/robfig/cron/v3's standard parser accepts,
// without importing it; "@every 1d" is rewritten as "@every 24h0m0s" so cron can run it.
//
// # Rules
//
// policies imports access, go.yaml.in/yaml/v3, cel.dev/cel-go and the standard library only
// (time/tzdata is embedded so timezones load on hosts without a zoneinfo database).
package policies
