package permissions

import (
	"bytes"
	"encoding/json"
	"io"
	"sync"
	"time"
)

// Decision is one permission decision.
type Decision struct {
	Time                                 time.Time
	Module, Category, Function, Resource string
	Allowed                              bool
	Rule                                 string // raw rule that decided; "default allow" / "default deny"; "prompt: allow once" / "prompt: allow always" / "prompt: deny"
}

// Decision.Rule values for decisions no rule made.
const (
	RuleDefaultAllow = "default allow"
	RuleDefaultDeny  = "default deny"
	RulePromptOnce   = "prompt: allow once"
	RulePromptAlways = "prompt: allow always"
	RulePromptDeny   = "prompt: deny"
	RuleTrustMode    = "trust mode" // Decide on a nil checker
)

// Answer is a user's reply to a permission prompt.
type Answer int

const (
	AnswerDeny   Answer = iota
	AnswerOnce          // allow this call
	AnswerAlways        // allow this module.category(function:resource) exact call for the rest of the checker's life
)

// Hooks observe and extend a checker's decisions.
type Hooks struct {
	// Audit, if set, is called once per Check with the decision (after any prompt).
	Audit func(Decision)
	// Prompt, if set, is asked for missing-grant denials only (never for deny-rule matches);
	// calls are serialised (one prompt at a time) and an AnswerAlways is remembered
	// so the same call is not asked again.
	Prompt func(Decision) Answer
}

// hookState is the hooks of one checker plus what its prompts remembered.
type hookState struct {
	Hooks
	promptMu sync.Mutex // one prompt at a time

	mu     sync.RWMutex
	always map[call]struct{} // calls answered AnswerAlways
}

type call struct{ module, category, function, resource string }

// WithHooks returns a checker with the same rules and the given hooks (c is
// unchanged); a nil c stays nil (trust mode: nothing to audit). Answers
// remembered by a prompt belong to the returned checker. Audit and Prompt
// run on the checking goroutine and must not call back into the checker.
func (c *Checker) WithHooks(h Hooks) *Checker {
	if c == nil {
		return nil
	}
	cc := *c
	cc.hooks = nil
	if h.Audit != nil || h.Prompt != nil {
		cc.hooks = &hookState{Hooks: h}
	}
	return &cc
}

// Decide is Check returning the Decision as well (Check = Decide's error).
// Time is when the call was checked. A missing-grant denial is put to the
// Prompt hook (unless an earlier AnswerAlways covers the exact call), then
// the final decision goes to the Audit hook. A prompt refusal returns the
// same *Error as a missing grant. A nil checker allows with Rule
// RuleTrustMode and calls no hooks.
func (c *Checker) Decide(module, category, function, resource string) (Decision, error) {
	d := Decision{Time: time.Now(), Module: module, Category: category, Function: function, Resource: resource}
	if c == nil {
		d.Allowed, d.Rule = true, RuleTrustMode
		return d, nil
	}
	o, r := c.eval(module, category, function, resource)
	switch o {
	case byDenyRule, byAllowRule:
		d.Rule = r.Raw
	case byDefaultAllow:
		d.Rule = RuleDefaultAllow
	default:
		d.Rule = RuleDefaultDeny
	}
	d.Allowed = o.allowed()
	if h := c.hooks; h != nil {
		if o == byDefaultDeny && h.Prompt != nil {
			d = h.ask(d)
		}
		if h.Audit != nil {
			h.Audit(d)
		}
	}
	if d.Allowed {
		return d, nil
	}
	return d, c.denial(o, r, module, category, function, resource)
}

// ask puts a missing-grant denial to the Prompt hook and returns the
// decision its answer makes; an unknown answer denies.
func (h *hookState) ask(d Decision) Decision {
	k := call{d.Module, d.Category, d.Function, d.Resource}
	if h.remembered(k) {
		d.Allowed, d.Rule = true, RulePromptAlways
		return d
	}
	h.promptMu.Lock()
	defer h.promptMu.Unlock()
	if h.remembered(k) { // granted while this call waited its turn
		d.Allowed, d.Rule = true, RulePromptAlways
		return d
	}
	switch h.Prompt(d) {
	case AnswerOnce:
		d.Allowed, d.Rule = true, RulePromptOnce
	case AnswerAlways:
		h.mu.Lock()
		if h.always == nil {
			h.always = map[call]struct{}{}
		}
		h.always[k] = struct{}{}
		h.mu.Unlock()
		d.Allowed, d.Rule = true, RulePromptAlways
	default:
		d.Allowed, d.Rule = false, RulePromptDeny
	}
	return d
}

func (h *hookState) remembered(k call) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	_, ok := h.always[k]
	return ok
}

// JSONAuditWriter returns an Audit hook writing one JSON line per decision:
// {"time":"<RFC3339Nano>","module":…,"category":…,"function":…,
// "resource":…,"decision":"allow"|"deny","rule":…}. Lines are written
// whole, one Write each, under a mutex (safe for concurrent use); write
// errors are ignored.
func JSONAuditWriter(w io.Writer) func(Decision) {
	var mu sync.Mutex
	return func(d Decision) {
		line := struct {
			Time     string `json:"time"`
			Module   string `json:"module"`
			Category string `json:"category"`
			Function string `json:"function"`
			Resource string `json:"resource"`
			Decision string `json:"decision"`
			Rule     string `json:"rule"`
		}{d.Time.Format(time.RFC3339Nano), d.Module, d.Category, d.Function, d.Resource, "deny", d.Rule}
		if d.Allowed {
			line.Decision = "allow"
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if enc.Encode(line) != nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		_, _ = w.Write(buf.Bytes())
	}
}
