package permissions

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

func mustChecker(t testing.TB, cfg *Config) *Checker {
	t.Helper()
	c, err := NewChecker(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDecide(t *testing.T) {
	c := mustChecker(t, &Config{Allow: []string{"fs.read(/srv/**)", "fs.*"}, Deny: []string{"fs.delete"}})
	open := mustChecker(t, &Config{Deny: []string{"os.exec"}, Default: DefaultAllow})
	tests := []struct {
		name     string
		c        *Checker
		call     [4]string
		allowed  bool
		rule     string
		errorHas string
	}{
		{"first matching allow rule", c, [4]string{"fs", "read", "read_file", "/srv/a"}, true, "fs.read(/srv/**)", ""},
		{"later allow rule", c, [4]string{"fs", "write", "write", "/x"}, true, "fs.*", ""},
		{"deny rule", c, [4]string{"fs", "delete", "remove", "/x"}, false, "fs.delete", "blocked by deny rule: fs.delete"},
		{"default deny", c, [4]string{"os", "env", "env", "HOME"}, false, RuleDefaultDeny, "no matching allow rule"},
		{"default allow", open, [4]string{"os", "env", "env", "HOME"}, true, RuleDefaultAllow, ""},
		{"deny over default allow", open, [4]string{"os", "exec", "exec", "/bin/ls"}, false, "os.exec", "blocked by deny rule: os.exec"},
		{"nil checker", nil, [4]string{"os", "exec", "exec", "/bin/ls"}, true, RuleTrustMode, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := time.Now()
			d, err := tt.c.Decide(tt.call[0], tt.call[1], tt.call[2], tt.call[3])
			want := Decision{Time: d.Time, Module: tt.call[0], Category: tt.call[1], Function: tt.call[2], Resource: tt.call[3],
				Allowed: tt.allowed, Rule: tt.rule}
			if d != want {
				t.Errorf("Decision %+v\nwant     %+v", d, want)
			}
			if d.Time.Before(before) || d.Time.After(time.Now()) {
				t.Errorf("Time %v not during the call", d.Time)
			}
			if (err == nil) != tt.allowed || (err != nil && !strings.Contains(err.Error(), tt.errorHas)) {
				t.Errorf("err = %v", err)
			}
			if cerr := tt.c.Check(tt.call[0], tt.call[1], tt.call[2], tt.call[3]); (cerr == nil) != (err == nil) ||
				(cerr != nil && cerr.Error() != err.Error()) {
				t.Errorf("Check = %v, Decide = %v", cerr, err)
			}
		})
	}
}

func TestWithHooks(t *testing.T) {
	if (*Checker)(nil).WithHooks(Hooks{Audit: func(Decision) {}}) != nil {
		t.Error("nil checker must stay nil")
	}
	base := mustChecker(t, &Config{Allow: []string{"fs.read"}})
	var audited []Decision
	hooked := base.WithHooks(Hooks{Audit: func(d Decision) { audited = append(audited, d) }})
	if hooked == base || base.hooks != nil {
		t.Fatal("WithHooks changed its receiver")
	}
	_ = base.Check("fs", "read", "read_file", "/x")
	if len(audited) != 0 {
		t.Fatal("the original checker audits")
	}
	_ = hooked.Check("fs", "read", "read_file", "/x")
	_ = hooked.Check("fs", "write", "write", "/x")
	if len(audited) != 2 || !audited[0].Allowed || audited[0].Rule != "fs.read" || audited[1].Allowed || audited[1].Rule != RuleDefaultDeny {
		t.Errorf("audited %+v", audited)
	}
	if !hooked.Allows("fs", "read", "", "") || hooked.Allows("fs", "write", "", "") || len(audited) != 2 {
		t.Error("Allows must follow the policy and skip the hooks")
	}
	if plain := hooked.WithHooks(Hooks{}); plain.hooks != nil || plain.Check("fs", "read", "read_file", "/x") != nil || len(audited) != 2 {
		t.Error("empty Hooks must drop the hooks")
	}
}

// prompter answers from a script and records what it was asked.
type prompter struct {
	mu      sync.Mutex
	answers []Answer
	asked   []Decision
}

func (p *prompter) prompt(d Decision) Answer {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.asked = append(p.asked, d)
	if len(p.answers) == 0 {
		return AnswerDeny
	}
	a := p.answers[0]
	p.answers = p.answers[1:]
	return a
}

func TestPrompt(t *testing.T) {
	cfg := &Config{Allow: []string{"fs.read"}, Deny: []string{"fs.delete"}}
	tests := []struct {
		name    string
		answers []Answer
		calls   [][4]string
		allowed []bool
		rules   []string
		asked   int
	}{
		{"deny rules are never prompted", []Answer{AnswerAlways},
			[][4]string{{"fs", "delete", "remove", "/x"}}, []bool{false}, []string{"fs.delete"}, 0},
		{"allowed calls are never prompted", nil,
			[][4]string{{"fs", "read", "read_file", "/x"}}, []bool{true}, []string{"fs.read"}, 0},
		{"deny answer", []Answer{AnswerDeny},
			[][4]string{{"fs", "write", "write", "/x"}}, []bool{false}, []string{RulePromptDeny}, 1},
		{"unknown answer denies", []Answer{Answer(42)},
			[][4]string{{"fs", "write", "write", "/x"}}, []bool{false}, []string{RulePromptDeny}, 1},
		{"once is asked again", []Answer{AnswerOnce, AnswerDeny},
			[][4]string{{"fs", "write", "write", "/x"}, {"fs", "write", "write", "/x"}},
			[]bool{true, false}, []string{RulePromptOnce, RulePromptDeny}, 2},
		{"always is remembered for the exact call", []Answer{AnswerAlways, AnswerDeny, AnswerDeny},
			[][4]string{
				{"fs", "write", "write", "/x"}, {"fs", "write", "write", "/x"},
				{"fs", "write", "write", "/y"}, {"fs", "write", "touch", "/x"},
			},
			[]bool{true, true, false, false}, []string{RulePromptAlways, RulePromptAlways, RulePromptDeny, RulePromptDeny}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &prompter{answers: tt.answers}
			var audited []Decision
			c := mustChecker(t, cfg).WithHooks(Hooks{Prompt: p.prompt, Audit: func(d Decision) { audited = append(audited, d) }})
			for i, cl := range tt.calls {
				err := c.Check(cl[0], cl[1], cl[2], cl[3])
				if (err == nil) != tt.allowed[i] {
					t.Fatalf("call %d %v: err = %v", i, cl, err)
				}
				if audited[i].Allowed != tt.allowed[i] || audited[i].Rule != tt.rules[i] {
					t.Errorf("call %d audited %+v, want allowed=%v rule %q", i, audited[i], tt.allowed[i], tt.rules[i])
				}
				if tt.rules[i] == RulePromptDeny {
					var pe *Error
					if !errors.As(err, &pe) || pe.Reason != "no matching allow rule" || pe.Suggest == "" {
						t.Errorf("prompt refusal error %#v", err)
					}
				}
			}
			if len(audited) != len(tt.calls) {
				t.Errorf("audited %d decisions for %d calls", len(audited), len(tt.calls))
			}
			if len(p.asked) != tt.asked {
				t.Fatalf("asked %d times, want %d", len(p.asked), tt.asked)
			}
			for _, d := range p.asked {
				if d.Allowed || d.Rule != RuleDefaultDeny || d.Time.IsZero() {
					t.Errorf("prompt saw %+v", d)
				}
			}
		})
	}
	t.Run("always belongs to the hooked checker", func(t *testing.T) {
		base := mustChecker(t, cfg)
		a := base.WithHooks(Hooks{Prompt: func(Decision) Answer { return AnswerAlways }})
		if a.Check("fs", "write", "write", "/x") != nil {
			t.Fatal("always denied")
		}
		if base.Check("fs", "write", "write", "/x") == nil || a.Allows("fs", "write", "write", "/x") {
			t.Error("a remembered answer leaked into the policy")
		}
		b := base.WithHooks(Hooks{Prompt: func(Decision) Answer { return AnswerDeny }})
		if b.Check("fs", "write", "write", "/x") == nil {
			t.Error("a remembered answer leaked into another checker")
		}
	})
}

func TestPromptSerialisedAndRemembered(t *testing.T) {
	var mu sync.Mutex
	inside, maxInside, asked := 0, 0, 0
	c := mustChecker(t, DenyAll()).WithHooks(Hooks{Prompt: func(d Decision) Answer {
		mu.Lock()
		inside++
		asked++
		maxInside = max(maxInside, inside)
		mu.Unlock()
		time.Sleep(time.Millisecond)
		mu.Lock()
		inside--
		mu.Unlock()
		return AnswerAlways
	}})
	var wg sync.WaitGroup
	for i := 0; i < 32; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			res := []string{"/a", "/b"}[i%2]
			if err := c.Check("fs", "read", "read_file", res); err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	if maxInside != 1 {
		t.Errorf("%d prompts ran at once", maxInside)
	}
	if asked != 2 {
		t.Errorf("asked %d times for 2 distinct calls answered always", asked)
	}
}

func TestJSONAuditWriter(t *testing.T) {
	var buf bytes.Buffer
	audit := JSONAuditWriter(&buf)
	ts := time.Date(2025, 3, 4, 5, 6, 7, 890, time.UTC)
	audit(Decision{Time: ts, Module: "fs", Category: "read", Function: "read_file", Resource: "/a<b>&\"c\"", Allowed: true, Rule: "fs.read"})
	audit(Decision{Time: ts, Module: "os", Category: "exec", Function: "exec", Allowed: false, Rule: RuleDefaultDeny})
	want := `{"time":"2025-03-04T05:06:07.00000089Z","module":"fs","category":"read","function":"read_file","resource":"/a<b>&\"c\"","decision":"allow","rule":"fs.read"}` + "\n" +
		`{"time":"2025-03-04T05:06:07.00000089Z","module":"os","category":"exec","function":"exec","resource":"","decision":"deny","rule":"default deny"}` + "\n"
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}

	t.Run("concurrent lines stay whole", func(t *testing.T) {
		var buf bytes.Buffer
		c := mustChecker(t, AllowFS()).WithHooks(Hooks{Audit: JSONAuditWriter(&buf)})
		var wg sync.WaitGroup
		for i := 0; i < 16; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := 0; j < 50; j++ {
					_ = c.Check("fs", "read", "read_file", strings.Repeat("x", 200))
				}
			}()
		}
		wg.Wait()
		n := 0
		sc := bufio.NewScanner(&buf)
		for sc.Scan() {
			var m map[string]string
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil || m["decision"] != "allow" || m["rule"] != "fs.read" {
				t.Fatalf("line %d: %v %q", n, err, sc.Text())
			}
			if _, err := time.Parse(time.RFC3339Nano, m["time"]); err != nil {
				t.Fatal(err)
			}
			n++
		}
		if n != 16*50 {
			t.Errorf("%d lines", n)
		}
	})
	t.Run("write errors are ignored", func(t *testing.T) {
		JSONAuditWriter(failWriter{})(Decision{})
	})
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestCheckAllowDoesNotAllocate(t *testing.T) {
	c := mustChecker(t, AllowLocal())
	if n := testing.AllocsPerRun(100, func() { _ = c.Check("http", "client", "GET", "https://x/") }); n != 0 {
		t.Errorf("allowed Check allocates %v times", n)
	}
	if n := testing.AllocsPerRun(100, func() { _ = c.Allows("os", "exec", "exec", "/bin/ls") }); n != 0 {
		t.Errorf("Allows allocates %v times", n)
	}
}

func BenchmarkCheck(b *testing.B) {
	cfg := AllowLocal()
	cfg.Deny = []string{"fs.read(/etc/shadow)"}
	c := mustChecker(b, cfg)
	calls := []struct {
		name string
		call [4]string
	}{
		{"allow", [4]string{"http", "client", "GET", "https://api.example.com/v1"}},
		{"deny-rule", [4]string{"fs", "read", "read_file", "/etc/shadow"}},
		{"missing-grant", [4]string{"os", "exec", "exec", "/usr/bin/ls"}},
	}
	checkers := []struct {
		name string
		c    *Checker
	}{
		{"no-hooks", c},
		{"audit", c.WithHooks(Hooks{Audit: func(Decision) {}})},
	}
	for _, ch := range checkers {
		for _, cl := range calls {
			b.Run(cl.name+"/"+ch.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					_ = ch.c.Check(cl.call[0], cl.call[1], cl.call[2], cl.call[3])
				}
			})
		}
	}
}
