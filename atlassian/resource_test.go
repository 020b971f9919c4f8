package atlassian_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/atlassian/atlassiantest"
)

// The default fake site is example.atlassian.net with Jira at its root (workspace ID
// ari:cloud:jira-admin::site/<cloudId>) and Confluence under /wiki, as real sites are.
func TestClient_Resource(t *testing.T) {
	f := setup(t)
	jira, confluence := f.srv.ProductID("jira"), f.srv.ProductID("confluence")
	tests := []struct {
		name, role, resource, want string
	}{
		{"site_admin_on_host", "site-admin", "example.atlassian.net", f.srv.SiteID()},
		{"site_admin_on_url", "site-admin", "https://EXAMPLE.atlassian.net/", f.srv.SiteID()},
		{"site_admin_on_wiki_path", "site-admin", "example.atlassian.net/wiki", f.srv.SiteID()},
		{"prefixed_role", "atlassian/site-admin", "example.atlassian.net", f.srv.SiteID()},
		{"product_admin_on_wiki", "admin", "example.atlassian.net/wiki", confluence},
		{"product_admin_on_wiki_url", "admin", "https://example.atlassian.net/wiki/", confluence},
		{"user_access_admin_on_root", "user-access-admin", "example.atlassian.net", jira},
		{"user_on_root", "user", "example.atlassian.net", jira},
		{"ari_as_is", "admin", "ari:cloud:jira-admin::site/abc", "ari:cloud:jira-admin::site/abc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := f.c.Resource(context.Background(), tt.role, tt.resource)
			if err != nil || got != tt.want {
				t.Fatalf("Resource(%q, %q) = %q, %v; want %q", tt.role, tt.resource, got, err, tt.want)
			}
			if strings.Contains(got, "-admin::") && !strings.HasPrefix(tt.resource, "ari:") {
				t.Errorf("resolved to an -admin workspace ID %s", got)
			}
		})
	}
}

func TestClient_Resource_refusals(t *testing.T) {
	f := setup(t)
	f.srv.AddWorkspace(atlassiantest.Workspace{ID: "ari:cloud:jira-software::site/1111", Type: "jira-software", HostURL: "https://shared.atlassian.net"})
	f.srv.AddWorkspace(atlassiantest.Workspace{ID: "ari:cloud:confluence::site/2222", Type: "confluence", HostURL: "https://shared.atlassian.net/wiki"})
	f.srv.AddWorkspace(atlassiantest.Workspace{ID: "ari:cloud:jira-software::site/3333", Type: "jira-software", HostURL: "https://two.atlassian.net"})
	f.srv.AddWorkspace(atlassiantest.Workspace{ID: "ari:cloud:jira-servicedesk::site/3333", Type: "jira-servicedesk", HostURL: "https://two.atlassian.net"})
	tests := []struct {
		name, role, resource string
		code                 access.Code
		contains             []string
	}{
		{"unknown_host", "site-admin", "nope.atlassian.net", access.ENOTFOUND,
			[]string{"nope.atlassian.net", "https://example.atlassian.net", "https://example.atlassian.net/wiki", "https://shared.atlassian.net", "JITBOT policy"}},
		{"two_cloud_ids_on_one_host", "site-admin", "shared.atlassian.net", access.EINVALID,
			[]string{"different sites", "ari:cloud:jira-software::site/1111", "ari:cloud:confluence::site/2222"}},
		{"no_workspace_at_path", "admin", "example.atlassian.net/jira", access.ENOTFOUND,
			[]string{"example.atlassian.net/jira", "https://example.atlassian.net/wiki"}},
		{"several_products_at_root", "admin", "two.atlassian.net", access.EINVALID,
			[]string{"ari:cloud:jira-software::site/3333", "ari:cloud:jira-servicedesk::site/3333"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.c.Resource(context.Background(), tt.role, tt.resource)
			wantCode(t, err, tt.code, tt.contains...)
		})
	}
	// A grant on an unknown host changes nothing and sends no role write.
	err := f.c.Add(context.Background(), access.Account{ID: f.alice}, access.RoleTarget("site-admin", "nope.atlassian.net"))
	wantCode(t, err, access.ENOTFOUND, "nope.atlassian.net", "https://example.atlassian.net")
	for _, r := range f.srv.Requests() {
		if r.Route == atlassiantest.RouteRoleAssign {
			t.Errorf("role write sent for an unknown host: %+v", r)
		}
	}
}

// roleWrites returns the resources of the role assign requests the fake received.
func roleWrites(t *testing.T, srv *atlassiantest.Server) []string {
	t.Helper()
	var out []string
	for _, r := range srv.Requests() {
		if r.Route != atlassiantest.RouteRoleAssign {
			continue
		}
		var b struct{ Role, Resource string }
		if err := json.Unmarshal([]byte(r.Body), &b); err != nil {
			t.Fatal(err)
		}
		out = append(out, b.Role+" on "+b.Resource)
	}
	return out
}

func TestClient_Role_resources(t *testing.T) {
	tests := []struct {
		name     string
		target   access.Target
		wantRole string
		product  string // "" for the platform site ARI
	}{
		{"site_admin_on_platform_site", access.RoleTarget("site-admin", "example.atlassian.net"), "atlassian/site-admin", ""},
		{"confluence_admin", access.RoleTarget("admin", "example.atlassian.net/wiki"), "atlassian/admin", "confluence"},
		{"jira_admin", access.RoleTarget("admin", "https://example.atlassian.net"), "atlassian/admin", "jira"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t)
			want := f.srv.SiteID()
			if tt.product != "" {
				want = f.srv.ProductID(tt.product)
			}
			ctx := context.Background()
			a := access.Account{ID: f.alice}
			if err := f.c.Add(ctx, a, tt.target); err != nil {
				t.Fatal(err)
			}
			if got := roleWrites(t, f.srv); len(got) != 1 || got[0] != tt.wantRole+" on "+want {
				t.Fatalf("role writes = %v, want [%s on %s]", got, tt.wantRole, want)
			}
			if !f.srv.HasRole(f.alice, tt.wantRole, want) {
				t.Fatal("role not held in the fake")
			}
			if has, err := f.c.Has(ctx, a, tt.target); err != nil || !has {
				t.Fatalf("Has = %v, %v", has, err)
			}
			if err := f.c.Remove(ctx, a, tt.target); err != nil {
				t.Fatal(err)
			}
			if f.srv.HasRole(f.alice, tt.wantRole, want) {
				t.Fatal("role still held after Remove")
			}
		})
	}
}

// A role held before jitbot is recognised whichever form of the site's ARI the API reports.
func TestClient_Has_normalisesResources(t *testing.T) {
	f := setup(t)
	cloud := strings.TrimPrefix(f.srv.SiteID(), "ari:cloud:platform::site/")
	f.srv.SetRole(f.alice, "atlassian/admin", "ari:cloud:jira-admin::site/"+cloud, true)
	f.srv.SetRole(f.bob, "atlassian/site-admin", "ari:cloud:confluence::site/"+cloud, true)
	ctx := context.Background()
	tests := []struct {
		name    string
		account string
		target  access.Target
		want    bool
	}{
		{"product_role_reported_on_admin_workspace_id", f.alice, access.RoleTarget("admin", "example.atlassian.net"), true},
		{"product_role_by_product_ari", f.alice, access.RoleTarget("admin", "ari:cloud:jira::site/"+cloud), true},
		{"other_product_not_held", f.alice, access.RoleTarget("admin", "example.atlassian.net/wiki"), false},
		{"site_role_reported_on_a_product", f.bob, access.RoleTarget("site-admin", "example.atlassian.net"), true},
		{"other_site_not_held", f.bob, access.RoleTarget("site-admin", "ari:cloud:platform::site/other"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := f.c.Has(ctx, access.Account{ID: tt.account}, tt.target)
			if err != nil || got != tt.want {
				t.Fatalf("Has = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

// The fake's Role API refuses what Atlassian's bug ID-8887 says the live one refuses.
func TestFake_RoleAPI_refusesWorkspaceAdminIDs(t *testing.T) {
	srv := atlassiantest.NewServer(t, atlassiantest.WithSpecValidation(t))
	acct := srv.AddUser(atlassiantest.User{Email: "alice@example.com"})
	cloud := strings.TrimPrefix(srv.SiteID(), "ari:cloud:platform::site/")
	tests := []struct {
		role, resource string
		status         int
		code           string
	}{
		{"atlassian/admin", "ari:cloud:jira-admin::site/" + cloud, 400, "ADMIN-UAM-400-5"},
		{"atlassian/admin", "example.atlassian.net", 400, "ADMIN-UAM-400-5"},
		{"atlassian/site-admin", "ari:cloud:confluence::site/" + cloud, 400, "ADMIN-UAM-400-3"},
		{"atlassian/admin", "ari:cloud:platform::site/" + cloud, 400, "ADMIN-UAM-400-3"},
		{"atlassian/admin", "ari:cloud:jira::site/unknown", 404, "ADMIN-UAM-404-2"},
		{"atlassian/admin", "ari:cloud:bitbucket::site/" + cloud, 404, "ADMIN-UAM-404-2"},
		{"atlassian/admin", "ari:cloud:jira::site/" + cloud, 204, ""},
		{"atlassian/user", "ari:cloud:platform::site/" + cloud, 204, ""},
		{"atlassian/site-admin", "ari:cloud:platform::site/" + cloud, 204, ""},
	}
	for _, tt := range tests {
		body, _ := json.Marshal(map[string]string{"role": tt.role, "resource": tt.resource})
		req, _ := http.NewRequest(http.MethodPost, srv.URL()+"/admin/v1/orgs/"+srv.OrgID()+"/users/"+acct+"/roles/assign", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+srv.APIKey())
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e struct {
			Errors []struct{ Code string } `json:"errors"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		code := ""
		if len(e.Errors) > 0 {
			code = e.Errors[0].Code
		}
		if resp.StatusCode != tt.status || code != tt.code {
			t.Errorf("%s on %s: %d %s, want %d %s", tt.role, tt.resource, resp.StatusCode, code, tt.status, tt.code)
		}
	}
}
