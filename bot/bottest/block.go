package bottest

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Block Kit limits the fake enforces (docs.slack.dev/reference/block-kit).
const (
	MaxMessageBlocks   = 50
	MaxViewBlocks      = 100
	MaxSectionText     = 3000
	MaxSectionFields   = 10
	MaxFieldText       = 2000
	MaxHeaderText      = 150
	MaxBlockID         = 255
	MaxActionID        = 255
	MaxActionsElements = 25
	MaxContextElements = 10
	MaxButtonText      = 75
	MaxButtonValue     = 2000
	MaxButtonURL       = 3000
	MaxMessageText     = 40000
	// MaxBlocksText is the most text, summed over every text field of a message's blocks, that
	// chat.postMessage and chat.update accept; more is msg_blocks_too_long. Slack's own bound
	// is not published; about 12,000 characters is where it starts refusing.
	MaxBlocksText      = 12000
	MaxViewTitle       = 24
	MaxPrivateMetadata = 3000
	MaxCallbackID      = 255
)

type obj = map[string]any

func str(o obj, key string) string {
	v, _ := o[key].(string)
	return v
}

func sub(o obj, key string) obj {
	v, _ := o[key].(map[string]any)
	return v
}

func list(o obj, key string) []obj {
	raw, _ := o[key].([]any)
	out := make([]obj, 0, len(raw))
	for _, r := range raw {
		if m, ok := r.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func decodeBlocks(raw json.RawMessage) ([]obj, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var blocks []obj
	if err := json.Unmarshal(raw, &blocks); err != nil {
		return nil, err
	}
	return blocks, nil
}

// blocksTextLen counts the characters of every "text" string in blocks, at any depth.
func blocksTextLen(raw json.RawMessage) int {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return 0
	}
	var walk func(v any, key string) int
	walk = func(v any, key string) int {
		switch x := v.(type) {
		case map[string]any:
			n := 0
			for k, e := range x {
				n += walk(e, k)
			}
			return n
		case []any:
			n := 0
			for _, e := range x {
				n += walk(e, key)
			}
			return n
		case string:
			if key == "text" {
				return utf8.RuneCountInString(x)
			}
		}
		return 0
	}
	return walk(v, "")
}

// validateBlocks checks a blocks array against Slack's limits and returns
// Slack-style problem messages; none means valid.
func validateBlocks(raw json.RawMessage, max int) []string {
	blocks, err := decodeBlocks(raw)
	if err != nil {
		return []string{"[ERROR] invalid blocks json: " + err.Error()}
	}
	var problems []string
	bad := func(path, format string, args ...any) {
		problems = append(problems, fmt.Sprintf("[ERROR] %s [json-pointer:/blocks%s]", fmt.Sprintf(format, args...), path))
	}
	if len(blocks) > max {
		bad("", "no more than %d items allowed", max)
	}
	seenBlock := map[string]bool{}
	for i, b := range blocks {
		p := fmt.Sprintf("/%d", i)
		if id := str(b, "block_id"); id != "" {
			if n := utf8.RuneCountInString(id); n > MaxBlockID {
				bad(p+"/block_id", "must be less than %d characters", MaxBlockID+1)
			}
			if seenBlock[id] {
				bad(p+"/block_id", "duplicate block_id %q", id)
			}
			seenBlock[id] = true
		}
		switch str(b, "type") {
		case "section":
			text, fields := sub(b, "text"), list(b, "fields")
			if text == nil && len(fields) == 0 {
				bad(p, "must provide text or fields")
			}
			if text != nil {
				checkText(bad, p+"/text", text, MaxSectionText)
			}
			if len(fields) > MaxSectionFields {
				bad(p+"/fields", "no more than %d items allowed", MaxSectionFields)
			}
			for j, f := range fields {
				checkText(bad, fmt.Sprintf("%s/fields/%d", p, j), f, MaxFieldText)
			}
			if acc := sub(b, "accessory"); acc != nil {
				checkElement(bad, p+"/accessory", acc)
			}
		case "header":
			checkText(bad, p+"/text", sub(b, "text"), MaxHeaderText)
		case "actions":
			els := list(b, "elements")
			if len(els) == 0 {
				bad(p+"/elements", "must have at least 1 item")
			}
			if len(els) > MaxActionsElements {
				bad(p+"/elements", "no more than %d items allowed", MaxActionsElements)
			}
			seenAction := map[string]bool{}
			for j, e := range els {
				ep := fmt.Sprintf("%s/elements/%d", p, j)
				checkElement(bad, ep, e)
				if id := str(e, "action_id"); id != "" {
					if seenAction[id] {
						bad(ep+"/action_id", "duplicate action_id %q", id)
					}
					seenAction[id] = true
				}
			}
		case "context":
			els := list(b, "elements")
			if len(els) == 0 || len(els) > MaxContextElements {
				bad(p+"/elements", "must have 1 to %d items", MaxContextElements)
			}
		case "input":
			checkText(bad, p+"/label", sub(b, "label"), 2000)
			if sub(b, "element") == nil {
				bad(p+"/element", "missing required field: element")
			}
		case "divider", "image", "rich_text", "file", "video", "markdown":
		case "":
			bad(p+"/type", "missing required field: type")
		default:
			bad(p+"/type", "unknown block type %q", str(b, "type"))
		}
	}
	return problems
}

func checkText(bad func(string, string, ...any), path string, t obj, max int) {
	if t == nil {
		bad(path, "missing required field: text")
		return
	}
	if typ := str(t, "type"); typ != "plain_text" && typ != "mrkdwn" {
		bad(path+"/type", "must be plain_text or mrkdwn")
	}
	n := utf8.RuneCountInString(str(t, "text"))
	if n == 0 {
		bad(path+"/text", "must be more than 0 characters")
	}
	if n > max {
		bad(path+"/text", "must be less than %d characters", max+1)
	}
}

func checkElement(bad func(string, string, ...any), path string, e obj) {
	if id := str(e, "action_id"); utf8.RuneCountInString(id) > MaxActionID {
		bad(path+"/action_id", "must be less than %d characters", MaxActionID+1)
	}
	if str(e, "type") != "button" {
		return
	}
	t := sub(e, "text")
	if t != nil && str(t, "type") != "plain_text" {
		bad(path+"/text/type", "must be plain_text")
	}
	checkText(bad, path+"/text", t, MaxButtonText)
	if utf8.RuneCountInString(str(e, "value")) > MaxButtonValue {
		bad(path+"/value", "must be less than %d characters", MaxButtonValue+1)
	}
	if utf8.RuneCountInString(str(e, "url")) > MaxButtonURL {
		bad(path+"/url", "must be less than %d characters", MaxButtonURL+1)
	}
	switch str(e, "style") {
	case "", "primary", "danger":
	default:
		bad(path+"/style", "must be primary or danger")
	}
}

// buttons lists the buttons in a blocks array.
func buttons(raw json.RawMessage) []Button {
	blocks, _ := decodeBlocks(raw)
	var out []Button
	add := func(blockID string, e obj) {
		if str(e, "type") != "button" {
			return
		}
		out = append(out, Button{
			BlockID:  blockID,
			ActionID: str(e, "action_id"),
			Label:    str(sub(e, "text"), "text"),
			Value:    str(e, "value"),
			Style:    str(e, "style"),
			URL:      str(e, "url"),
		})
	}
	for _, b := range blocks {
		id := str(b, "block_id")
		if acc := sub(b, "accessory"); acc != nil {
			add(id, acc)
		}
		for _, e := range list(b, "elements") {
			add(id, e)
		}
	}
	return out
}

// elementType returns the type of the input element with actionID in the
// block with blockID, or "" when there is none.
func elementType(raw json.RawMessage, blockID, actionID string) string {
	blocks, _ := decodeBlocks(raw)
	for _, b := range blocks {
		if str(b, "block_id") != blockID {
			continue
		}
		els := list(b, "elements")
		for _, key := range []string{"element", "accessory"} {
			if e := sub(b, key); e != nil {
				els = append(els, e)
			}
		}
		for _, e := range els {
			if str(e, "action_id") == actionID {
				return str(e, "type")
			}
		}
	}
	return ""
}

// renderBlocks renders blocks as readable text, one block per line.
func renderBlocks(raw json.RawMessage) string {
	blocks, err := decodeBlocks(raw)
	if err != nil {
		return string(raw)
	}
	var lines []string
	for _, b := range blocks {
		switch str(b, "type") {
		case "header":
			lines = append(lines, "# "+str(sub(b, "text"), "text"))
		case "section":
			var parts []string
			if t := str(sub(b, "text"), "text"); t != "" {
				parts = append(parts, t)
			}
			for _, f := range list(b, "fields") {
				parts = append(parts, str(f, "text"))
			}
			line := strings.Join(parts, "\n")
			if acc := sub(b, "accessory"); str(acc, "type") == "button" {
				line += "  " + renderButton(acc)
			}
			lines = append(lines, line)
		case "context":
			var parts []string
			for _, e := range list(b, "elements") {
				if t := str(e, "text"); t != "" {
					parts = append(parts, t)
				} else if alt := str(e, "alt_text"); alt != "" {
					parts = append(parts, "["+alt+"]")
				}
			}
			lines = append(lines, strings.Join(parts, " | "))
		case "divider":
			lines = append(lines, "---")
		case "actions":
			var parts []string
			for _, e := range list(b, "elements") {
				if str(e, "type") == "button" {
					parts = append(parts, renderButton(e))
				} else {
					parts = append(parts, "<"+str(e, "type")+" "+str(e, "action_id")+">")
				}
			}
			lines = append(lines, strings.Join(parts, " "))
		case "input":
			e := sub(b, "element")
			lines = append(lines, fmt.Sprintf("%s: <%s %s>", str(sub(b, "label"), "text"), str(e, "type"), str(e, "action_id")))
		case "image":
			lines = append(lines, "[image: "+str(b, "alt_text")+"]")
		default:
			lines = append(lines, "<"+str(b, "type")+">")
		}
	}
	return strings.Join(lines, "\n")
}

func renderButton(e obj) string {
	return "[" + str(sub(e, "text"), "text") + "]"
}
