package bot

import (
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// foreignText is the answer to someone from another Slack workspace (Slack Connect).
const foreignText = "jitbot serves the members of this Slack workspace only: people from other organizations (Slack Connect) cannot request, approve or end access here."

// foreign reports whether an envelope comes from a user of another workspace than the one
// jitbot is installed in (a Slack Connect guest), with that team and user. Until auth.test has
// said which workspace this is, nobody is foreign here; the identity check (Email) still
// refuses them, asking auth.test again first.
func (b *Bot) foreign(evt socketmode.Event) (team, user string, ok bool) {
	home, _ := b.team.Load().(string)
	if home == "" {
		return "", "", false
	}
	switch data := evt.Data.(type) {
	case slack.SlashCommand:
		team, user = data.TeamID, data.UserID
	case slack.InteractionCallback:
		team, user = data.User.TeamID, data.User.ID
		if team == "" {
			team = data.Team.ID
		}
	default:
		return "", "", false
	}
	return team, user, team != "" && team != home
}
