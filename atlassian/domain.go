package atlassian

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// Domain is a domain claimed by the organization.
type Domain struct {
	ID       string
	Name     string
	Verified bool
}

type domainPage struct {
	Data []struct {
		ID         string `json:"id"`
		Attributes struct {
			Name  string `json:"name"`
			Claim struct {
				Status string `json:"status"`
			} `json:"claim"`
		} `json:"attributes"`
	} `json:"data"`
	Links links `json:"links"`
}

// Domains lists the organization's domains; users of verified ones are managed accounts.
func (c *Client) Domains(ctx context.Context) ([]Domain, error) {
	var out []Domain
	err := paged(ctx, func(cursor string) (links, error) {
		var q url.Values
		if cursor != "" {
			q = url.Values{"cursor": {cursor}}
		}
		var p domainPage
		if _, err := c.do(ctx, call{op: "domains.list", method: http.MethodGet, path: c.org("v1", "/domains"), query: q, out: &p}); err != nil {
			return links{}, err
		}
		for _, d := range p.Data {
			out = append(out, Domain{ID: d.ID, Name: d.Attributes.Name, Verified: d.Attributes.Claim.Status == "verified"})
		}
		return p.Links, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list domains: %w", err)
	}
	return out, nil
}

// VerifiedDomains returns the names of the organization's verified domains.
func (c *Client) VerifiedDomains(ctx context.Context) ([]string, error) {
	ds, err := c.Domains(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, d := range ds {
		if d.Verified {
			out = append(out, d.Name)
		}
	}
	return out, nil
}
