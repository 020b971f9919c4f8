package bottest

import (
	"sort"
	"strings"
)

// WithShouldEscape says how the slash command is declared in the app manifest: with
// should_escape true (the default here) Slack sends @mentions of users as <@U…|name> and
// #channels as <#C…|name>; with false it sends them as the plain text typed. Either way &, <
// and > arrive as &amp;, &lt; and &gt;.
func WithShouldEscape(escape bool) Option { return func(s *Server) { s.escape = escape } }

// slashText is text as Slack sends a typed slash command. Call with s.mu held.
func (s *Server) slashText(text string) string {
	text = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(text)
	if !s.escape {
		return text
	}
	// Longest names first, so "@Ann Lee" wins over "@Ann".
	type name struct{ text, repl string }
	var names []name
	for _, u := range s.users {
		for _, n := range []string{u.Name, u.RealName} {
			if n != "" {
				names = append(names, name{"@" + n, "<@" + u.ID + "|" + u.Name + ">"})
			}
		}
	}
	for _, ch := range s.channels {
		if !ch.im {
			names = append(names, name{"#" + ch.name, "<#" + ch.id + "|" + ch.name + ">"})
		}
	}
	sort.Slice(names, func(i, j int) bool { return len(names[i].text) > len(names[j].text) })
	var b strings.Builder
	for i := 0; i < len(text); {
		matched := false
		if c := text[i]; (c == '@' || c == '#') && (i == 0 || text[i-1] == ' ') {
			for _, n := range names {
				end := i + len(n.text)
				if end <= len(text) && strings.EqualFold(text[i:end], n.text) && (end == len(text) || !isNameChar(text[end])) {
					b.WriteString(n.repl)
					i, matched = end, true
					break
				}
			}
		}
		if !matched {
			b.WriteByte(text[i])
			i++
		}
	}
	return b.String()
}

func isNameChar(c byte) bool {
	return c == '.' || c == '_' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// EscapedText is text as Slack would send it in a slash command to this app.
func (s *Server) EscapedText(text string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.slashText(text)
}
