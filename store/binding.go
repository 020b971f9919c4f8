package store

import (
	"fmt"

	"github.com/jitbot/jitbot/access"
)

// Binding returns the stored account of a Slack user, or an ENOTFOUND error.
func (t *tx) Binding(slackID string) (*access.Binding, error) {
	b, err := t.bucket(bucketBindings)
	if err != nil {
		return nil, fmt.Errorf("get binding %s: %w", slackID, err)
	}
	var bd access.Binding
	ok, err := getJSON(b, []byte(slackID), &bd)
	if err != nil {
		return nil, fmt.Errorf("get binding %s: %w", slackID, err)
	}
	if !ok {
		return nil, access.Errorf(access.ENOTFOUND, "Slack user %s is not bound to an Atlassian account yet.", slackID)
	}
	return &bd, nil
}

// PutBinding stores or replaces the binding of bd.SlackID.
func (t *tx) PutBinding(bd *access.Binding) error {
	if bd == nil || bd.SlackID == "" {
		return access.Errorf(access.EINVALID, "A binding without a Slack user ID cannot be stored.")
	}
	b, err := t.bucket(bucketBindings)
	if err == nil {
		err = putJSON(b, []byte(bd.SlackID), bd)
	}
	if err != nil {
		return fmt.Errorf("put binding %s: %w", bd.SlackID, err)
	}
	return nil
}
