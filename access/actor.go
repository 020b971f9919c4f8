package access

// ActorKind says what kind of party acted.
type ActorKind string

// Actor kinds.
const (
	ActorUser   ActorKind = "user"   // a person, known by Slack user ID
	ActorPolicy ActorKind = "policy" // the policy itself (auto-approve, sync rules, sweeps)
	ActorSystem ActorKind = "system" // jitbot (sweeper, recovery)
)

// Actor is who performed a transition.
type Actor struct {
	Kind    ActorKind `json:"kind"`
	SlackID string    `json:"slack_id,omitempty"`
	Name    string    `json:"name,omitempty"`
}

// UserActor returns the Actor for the Slack user with the given ID.
func UserActor(slackID string) Actor { return Actor{Kind: ActorUser, SlackID: slackID} }

// PolicyActor acts when the policy decides (auto-approve, rules, sweeps).
var PolicyActor = Actor{Kind: ActorPolicy, Name: "policy"}

// SystemActor acts for jitbot itself (sweeper, start-up recovery).
var SystemActor = Actor{Kind: ActorSystem, Name: "jitbot"}

// String returns the Slack user ID for people and the kind otherwise.
func (a Actor) String() string {
	if a.Kind == ActorUser {
		return a.SlackID
	}
	if a.Name != "" {
		return a.Name
	}
	return string(a.Kind)
}

// Is reports whether a and b are the same party.
func (a Actor) Is(b Actor) bool {
	if a.Kind != b.Kind {
		return false
	}
	if a.Kind == ActorUser {
		return a.SlackID != "" && a.SlackID == b.SlackID
	}
	return true
}
