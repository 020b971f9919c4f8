package atlassian

import "strings"

// ari is a site-scoped Atlassian resource identifier, ari:cloud:<type>::site/<cloudId>. Every
// product workspace of one site shares the site's cloud ID; the type says which product (jira,
// confluence, …) or, for the site itself, platform.
type ari struct {
	Type    string // lower-cased resource type as written, e.g. jira-admin
	CloudID string
}

// platformType is the resource type of a site as a whole.
const platformType = "platform"

// parseARI parses ari:cloud:<type>::site/<cloudId>; ok is false for anything else.
func parseARI(s string) (ari, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), "ari:cloud:")
	if !ok {
		return ari{}, false
	}
	typ, id, ok := strings.Cut(rest, "::site/")
	if !ok || typ == "" || id == "" || strings.ContainsAny(typ, ":/") || strings.ContainsAny(id, ":/") {
		return ari{}, false
	}
	return ari{Type: strings.ToLower(typ), CloudID: id}, true
}

// product is the type a product role is assigned on: the workspace type without its
// "-admin" flavour (the Workspaces API names Jira's workspace jira-admin, while the Role API
// wants jira; Atlassian's public bug ID-8887).
func (a ari) product() string { return strings.TrimSuffix(a.Type, "-admin") }

// String formats a as an ARI.
func (a ari) String() string { return "ari:cloud:" + a.Type + "::site/" + a.CloudID }

// siteRoles are the roles that belong to a site as a whole, assigned on the platform site ARI.
var siteRoles = map[string]bool{"atlassian/site-admin": true}

// sameResource reports whether the role assignment a read back on got is the one asked on want:
// both parse as ARIs of the same cloud ID and, for a product role, the same product; a site
// role matches on the cloud ID alone. Anything that is not an ARI compares as written.
func sameResource(role, want, got string) bool {
	w, wok := parseARI(want)
	g, gok := parseARI(got)
	if !wok || !gok {
		return strings.EqualFold(strings.TrimSpace(want), strings.TrimSpace(got))
	}
	if w.CloudID != g.CloudID {
		return false
	}
	return siteRoles[role] || w.product() == g.product()
}
