package policies

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"cel.dev/cel-go/cel"
	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/ext"

	"github.com/jitbot/jitbot/access"
)

// celUser is the `user` and `requester` variables of conditions.
type celUser struct {
	AccountID    string    `cel:"account_id"`
	Email        string    `cel:"email"`
	EmailDomain  string    `cel:"email_domain"`
	Name         string    `cel:"name"`
	External     bool      `cel:"external"`
	Managed      bool      `cel:"managed"`
	Status       string    `cel:"status"`
	Groups       []string  `cel:"groups"`
	LastActive   time.Time `cel:"last_active"`
	InactiveDays int       `cel:"inactive_days"`
	AddedToOrg   time.Time `cel:"added_to_org"`
}

// celRequest is the `request` variable of conditions.
type celRequest struct {
	Role     string        `cel:"role"`
	Kind     string        `cel:"kind"`
	Duration time.Duration `cel:"duration"`
	Total    time.Duration `cel:"total"`
	Reason   string        `cel:"reason"`
}

const (
	celUserType    = "policies.celUser"
	celRequestType = "policies.celRequest"
	// celCostLimit bounds the work of one evaluation; policy conditions are far below it.
	celCostLimit = 1_000_000
	// celSizeLimit bounds the length of one expression, in code points.
	celSizeLimit = 4096
)

var celEnv = sync.OnceValues(func() (*cel.Env, error) {
	return cel.NewEnv(
		ext.NativeTypes(reflect.TypeFor[celUser](), reflect.TypeFor[celRequest](), ext.ParseStructTags(true)),
		cel.Variable("user", cel.ObjectType(celUserType)),
		cel.Variable("requester", cel.ObjectType(celUserType)),
		cel.Variable("request", cel.ObjectType(celRequestType)),
		cel.Variable("now", cel.TimestampType),
		cel.ParserExpressionSizeLimit(celSizeLimit),
	)
})

// Condition is a compiled CEL expression; it implements access.Condition and is safe for
// concurrent use.
type Condition struct {
	expr  string
	prg   cel.Program
	reads map[string]bool // "variable.field" selections the expression makes
}

var _ access.Condition = (*Condition)(nil)

// Compile compiles and type-checks a CEL condition; its result must be a bool.
func Compile(expr string) (*Condition, error) {
	env, err := celEnv()
	if err != nil {
		return nil, fmt.Errorf("compile condition: cel environment: %w", err)
	}
	ast, iss := env.Compile(expr)
	if iss.Err() != nil {
		return nil, fmt.Errorf("%s", celMessage(iss.Err().Error()))
	}
	if t := ast.OutputType(); !t.IsExactType(types.BoolType) {
		return nil, fmt.Errorf("the expression gives %s, not bool", t)
	}
	prg, err := env.Program(ast, cel.CostLimit(celCostLimit))
	if err != nil {
		return nil, fmt.Errorf("compile condition: %w", err)
	}
	return &Condition{expr: expr, prg: prg, reads: selections(ast.NativeRep())}, nil
}

// selections returns the "variable.field" selections an expression makes.
func selections(a *celast.AST) map[string]bool {
	out := map[string]bool{}
	celast.PreOrderVisit(a.Expr(), celast.NewExprVisitor(func(e celast.Expr) {
		if e.Kind() != celast.SelectKind {
			return
		}
		sel := e.AsSelect()
		if op := sel.Operand(); op.Kind() == celast.IdentKind {
			out[op.AsIdent()+"."+sel.FieldName()] = true
		}
	}))
	return out
}

// Reads reports whether the expression reads field of variable, as in request.reason.
func (c *Condition) Reads(variable, field string) bool { return c.reads[variable+"."+field] }

// celMessage condenses a CEL issue report to its ERROR lines, without the source excerpts.
func celMessage(s string) string {
	var msgs []string
	for _, l := range strings.Split(s, "\n") {
		if m, ok := strings.CutPrefix(l, "ERROR: "); ok {
			msgs = append(msgs, strings.TrimPrefix(m, "<input>:"))
		}
	}
	if len(msgs) == 0 {
		return s
	}
	return strings.Join(msgs, "; ")
}

// String returns the expression's source.
func (c *Condition) String() string { return c.expr }

// Eval evaluates the condition. Variables whose Input field is nil are left undefined, so an
// expression that reads them fails with an error rather than seeing empty values.
func (c *Condition) Eval(in access.Input) (bool, error) {
	vars := map[string]any{"now": in.Now}
	if in.User != nil {
		vars["user"] = newCELUser(in.User, in.Domains, in.Now)
	}
	if in.Requester != nil {
		vars["requester"] = newCELUser(in.Requester, in.Domains, in.Now)
	}
	if in.Request != nil {
		r := in.Request
		vars["request"] = &celRequest{Role: r.Role, Kind: r.Kind, Duration: r.Duration, Total: r.Total, Reason: r.Reason}
	}
	out, _, err := c.prg.Eval(vars)
	if err != nil {
		return false, fmt.Errorf("evaluate condition %q: %w", c.expr, err)
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Errorf("evaluate condition %q: result %v is not a bool", c.expr, out)
	}
	return b, nil
}

func newCELUser(u *access.User, domains []string, now time.Time) *celUser {
	groups := u.Groups
	if groups == nil {
		groups = []string{}
	}
	return &celUser{
		AccountID:    u.AccountID,
		Email:        u.Email,
		EmailDomain:  u.EmailDomain(),
		Name:         u.Name,
		External:     u.External(domains),
		Managed:      u.Managed,
		Status:       u.Status,
		Groups:       groups,
		LastActive:   u.LastActive,
		InactiveDays: u.InactiveDays(now),
		AddedToOrg:   u.AddedToOrg,
	}
}
